BEGIN
{
	x = 10;
	x += 2; x -= 1; x *= 3; x /= 2; x %= 7;
	x <<= 3; x >>= 1; x &= 0xf; x |= 0x30; x ^= 1;
	y = x++ + ++x - x-- - --x;
	trace(x);
	trace(y);
	exit(0);
}
