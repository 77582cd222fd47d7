// A C++ translation unit: fastbuddy.h must compile as C++ (extern "C", no C-only constructs) and link.
#include <fastbuddy.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fbtest.h"

namespace {

// RAII for an arena: what a C++ host would write.
struct ArenaDeleter {
    void operator()(fb_arena* a) const noexcept { fb_arena_destroy(a); }
};
using ArenaPtr = std::unique_ptr<fb_arena, ArenaDeleter>;

ArenaPtr make_arena(std::size_t bytes)
{
    fb_options o;
    fb_options_init(&o);
    o.arena_bytes = bytes;
    o.background_reclaim = 0;
    fb_arena* a = nullptr;
    return fb_arena_create(&o, &a) == FB_OK ? ArenaPtr(a) : ArenaPtr();
}

struct Owner {
    std::atomic<int> evictions{0};
    static void evict(void* ctx, void*) { static_cast<Owner*>(ctx)->evictions++; }
    static int writeback(void*, void*) { return 1; }
};

} // namespace

FB_TEST(cxx_header_and_basic_calls)
{
    CHECK(std::string(fb_version()) == FB_VERSION_STRING);
    ArenaPtr arena = make_arena(1 << 20);
    REQUIRE(arena != nullptr);
    std::vector<void*> blocks;
    for (std::uint32_t k = 0; k < 5; k++) {
        void* p = fb_alloc_pages(arena.get(), k, FB_KERNEL | FB_ZERO);
        REQUIRE(p != nullptr);
        blocks.push_back(p);
    }
    void* bytes = fb_alloc(arena.get(), 10000, FB_KERNEL);
    REQUIRE(bytes != nullptr);
    CHECK_EQ(fb_usable_size(arena.get(), bytes), 10240); // an object of its size class
    CHECK_STATUS(fb_free(arena.get(), bytes), FB_OK);
    void* block = fb_alloc(arena.get(), 40000, FB_KERNEL);
    REQUIRE(block != nullptr);
    CHECK_EQ(fb_usable_size(arena.get(), block), 65536); // above fb_small_max: a block of pages
    CHECK_STATUS(fb_free(arena.get(), block), FB_OK);
    for (std::uint32_t k = 0; k < 5; k++)
        CHECK_STATUS(fb_free_pages(arena.get(), blocks[k], k), FB_OK);
    CHECK_STATUS(fb_free_pages(arena.get(), blocks[0], 0), FB_ERR_DOUBLE_FREE);
    CHECK(std::strlen(fb_strerror(fb_last_error())) > 0);

    Owner owner;
    const fb_page_ops ops = { &Owner::writeback, &Owner::evict };
    void* page = fb_alloc_pages(arena.get(), 0, FB_KERNEL);
    REQUIRE(page != nullptr);
    CHECK_STATUS(fb_cache_add(arena.get(), page, &ops, &owner, 1), FB_OK);
    CHECK_STATUS(fb_cache_remove(arena.get(), page), FB_OK);
    CHECK_STATUS(fb_free_pages(arena.get(), page, 0), FB_OK);

    CHECK(fb_trim(arena.get()) >= 0); // the slab of the object goes back too
    fb_stats s{};
    s.struct_size = sizeof s;
    CHECK_STATUS(fb_get_stats(arena.get(), &s), FB_OK);
    CHECK_EQ(s.total_pages, 256);
    CHECK_EQ(s.free_pages + s.per_cpu_pages, 256);
    CHECK_EQ(s.slab_pages, 0);
    fb_zone_stats z{};
    z.struct_size = sizeof z;
    CHECK_STATUS(fb_get_zone_stats(arena.get(), 0, &z), FB_OK);
    CHECK(std::string(z.name) == "Normal");
    CHECK_STATUS(fb_validate(arena.get()), FB_OK);
    CHECK_EQ(owner.evictions.load(), 0);
}
