dtrace:::BEGIN,
::BEGIN,
:BEGIN,
BEGIN
{
}

dtrace:::END
{
}
