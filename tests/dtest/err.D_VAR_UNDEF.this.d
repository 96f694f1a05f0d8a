BEGIN
{
	trace(this->never);
}
