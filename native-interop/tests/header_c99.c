/* Compiled with -std=c99 -pedantic -Werror: fastbuddy.h is plain C99 and self-contained. */
#include <fastbuddy.h>
#include <fastbuddy.h> /* include guard */

int fbt_header_c99_compiles(void);
int fbt_header_c99_compiles(void)
{
    fb_options o = { sizeof(fb_options), 4096, 11, 0, 1 << 20, NULL, 0, 0, 20, 0, 0, 0, 0, NULL, NULL, NULL, NULL };
    return (int)o.struct_size + FB_OK;
}
