#pragma D
BEGIN
{
}
