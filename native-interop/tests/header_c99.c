/* Compiled with -std=c99 -pedantic -Werror: fastbuddy.h is plain C99 and self-contained. */
#include <fastbuddy.h>
#include <fastbuddy.h> /* include guard */

int fbt_header_c99_compiles(void);
int fbt_header_c99_compiles(void)
{
    fb_zone_options zone = { "Normal", 1u << 20, 0 };
    fb_options o = { .struct_size = sizeof(fb_options), .page_size = 4096, .max_order = 11, .zones = &zone,
                     .zone_count = 1, .alloc_wait_ms = FB_WAIT_INFINITE };
    fb_page_ops ops = { 0, 0 };
    return (int)o.struct_size + FB_OK + (ops.evict == 0);
}
