/* sinter command-line driver (placeholder until the CLI lands). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "sinter: no verbs yet\n");
    return 2;
}
