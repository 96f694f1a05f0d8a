BEGIN
/"s"/
{
}
