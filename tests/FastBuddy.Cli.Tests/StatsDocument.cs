using System.Text.Json;

namespace FastBuddy.Cli.Tests;

/// <summary>
/// Checks a --json document against the schema of docs/cli.md ("fastbuddy-stats/1"): every required field with
/// its type, and the counts consistent with each other.
/// </summary>
public static class StatsDocument
{
    public static readonly string[] TotalFields =
    [
        "pages", "free_pages", "per_cpu_pages", "active_pages", "inactive_dirty_pages", "inactive_clean_pages",
        "allocations", "frees", "failures", "reclaimed", "laundered", "memory_pressure", "inactive_target",
        "freepages_min", "freepages_low", "freepages_high",
    ];

    public static readonly string[] StepFields =
        ["fast_path", "high", "low", "min", "direct_reclaim", "higher_order_reclaim", "final_phase", "failed"];

    public static JsonElement Parse(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement.Clone();
        AssertValid(root);
        return root;
    }

    public static long Number(JsonElement element, string name)
    {
        Assert.True(element.TryGetProperty(name, out JsonElement value), $"missing '{name}'");
        Assert.Equal(JsonValueKind.Number, value.ValueKind);
        return value.GetInt64();
    }

    public static void AssertValid(JsonElement root)
    {
        Assert.Equal("fastbuddy-stats/1", root.GetProperty("schema").GetString());
        Assert.Equal(JsonValueKind.String, root.GetProperty("command").ValueKind);
        Assert.Equal(JsonValueKind.String, root.GetProperty("workload").ValueKind);
        Number(root, "seed");
        JsonElement arena = root.GetProperty("arena");
        long pageSize = Number(arena, "page_size");
        long maxOrder = Number(arena, "max_order");
        long zoneCount = Number(arena, "zone_count");
        Assert.True(pageSize >= 64 && (pageSize & (pageSize - 1)) == 0);

        JsonElement totals = root.GetProperty("totals");
        foreach (string field in TotalFields)
            Assert.True(Number(totals, field) >= 0, field);
        JsonElement steps = root.GetProperty("steps");
        long served = 0;
        foreach (string field in StepFields)
            served += field == "failed" ? 0 : Number(steps, field);
        Assert.Equal(Number(totals, "allocations"), served);
        Assert.Equal(Number(totals, "failures"), Number(steps, "failed"));

        JsonElement zones = root.GetProperty("zones");
        Assert.Equal(zoneCount, zones.GetArrayLength());
        long pages = 0, free = 0, parked = 0, active = 0, dirty = 0, clean = 0, min = 0, low = 0, high = 0;
        foreach (JsonElement zone in zones.EnumerateArray())
        {
            Assert.False(string.IsNullOrEmpty(zone.GetProperty("name").GetString()));
            JsonElement marks = zone.GetProperty("watermarks");
            Assert.True(Number(marks, "min") <= Number(marks, "low") && Number(marks, "low") <= Number(marks, "high"));
            JsonElement blocks = zone.GetProperty("free_blocks");
            Assert.Equal(maxOrder, blocks.GetArrayLength());
            long fromBlocks = 0;
            int order = 0;
            foreach (JsonElement count in blocks.EnumerateArray())
                fromBlocks += count.GetInt64() << order++;
            // The buddyinfo identity: free pages are the free blocks times their sizes.
            Assert.Equal(Number(zone, "free_pages"), fromBlocks);
            Assert.True(Number(zone, "free_pages") + Number(zone, "per_cpu_pages") <= Number(zone, "pages"));
            JsonElement lru = zone.GetProperty("lru");
            pages += Number(zone, "pages");
            free += Number(zone, "free_pages");
            parked += Number(zone, "per_cpu_pages");
            active += Number(lru, "active");
            dirty += Number(lru, "inactive_dirty");
            clean += Number(lru, "inactive_clean");
            min += Number(marks, "min");
            low += Number(marks, "low");
            high += Number(marks, "high");
        }
        Assert.Equal(Number(totals, "pages"), pages);
        Assert.Equal(Number(totals, "free_pages"), free);
        Assert.Equal(Number(totals, "per_cpu_pages"), parked);
        Assert.Equal(Number(totals, "active_pages"), active);
        Assert.Equal(Number(totals, "inactive_dirty_pages"), dirty);
        Assert.Equal(Number(totals, "inactive_clean_pages"), clean);
        Assert.Equal(Number(totals, "freepages_min"), min);
        Assert.Equal(Number(totals, "freepages_low"), low);
        Assert.Equal(Number(totals, "freepages_high"), high);

        if (root.TryGetProperty("phases", out JsonElement phases))
            AssertPhasesAddUp(phases, totals, steps);
    }

    // The demo's phases start from a fresh arena, so their counters add up to the totals.
    private static void AssertPhasesAddUp(JsonElement phases, JsonElement totals, JsonElement steps)
    {
        foreach (string field in new[] { "allocations", "frees", "failures", "reclaimed", "laundered" })
            Assert.Equal(Number(totals, field), phases.EnumerateArray().Sum(p => Number(p, field)));
        foreach (string field in StepFields)
            Assert.Equal(Number(steps, field), phases.EnumerateArray().Sum(p => Number(p.GetProperty("steps"), field)));
        foreach (JsonElement phase in phases.EnumerateArray())
            Assert.False(string.IsNullOrEmpty(phase.GetProperty("name").GetString()));
    }

    public static JsonElement Phase(JsonElement root, string name)
        => root.GetProperty("phases").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);
}
