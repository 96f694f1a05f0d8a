/*
 * json(): values by key, index and path, as illumos' json tests show them
 * (strings without quotes, numbers and literals as written, objects and
 * arrays as their text, NULL for what is not there or malformed).
 * @flags: -q
 */
#pragma D option strsize=512

BEGIN
{
	in = "{ \"top\": { \"mid\": { \"legs\": \"feet\" }, \"number\": 9, \"array\": [0, 1, { \"a\": true, \"bb\": [1, 2.5e3, null, { \"x\": \"yz\" }] }] } }";
	out = json(in, "top.mid");
	printf("top.mid = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.mid.legs");
	printf("top.mid.legs = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.number");
	printf("top.number = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.array[1]");
	printf("top.array[1] = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.array.1");
	printf("top.array.1 = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.array[2].a");
	printf("top.array[2].a = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.array[2].bb");
	printf("top.array[2].bb = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.array[2].bb[1]");
	printf("top.array[2].bb[1] = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.array[2].bb[2]");
	printf("top.array[2].bb[2] = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.array[2].bb[3].x");
	printf("top.array[2].bb[3].x = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.array[2].bb[4]");
	printf("top.array[2].bb[4] = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.nothere");
	printf("top.nothere = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "top.number.deeper");
	printf("top.number.deeper = %s\n", out != NULL ? out : "<NULL>");
	in = "[\"fine\", \"bad \\u00AZ\", 3]";
	out = json(in, "0");
	printf("0 = %s\n", out != NULL ? out : "<NULL>");
	out = json(in, "2");
	printf("2 = %s\n", out != NULL ? out : "<NULL>");
	exit(0);
}
