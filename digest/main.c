/* digest — keeps a leader's working relationships alive.  See cli.c. */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
