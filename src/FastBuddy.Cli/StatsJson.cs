using System.Text;
using System.Text.Json;
using CommunityToolkit.HighPerformance.Buffers;

namespace FastBuddy.Cli;

// The --json document (schema "fastbuddy-stats/1", described in docs/cli.md): written with Utf8JsonWriter into a
// pooled buffer, no reflection, so it stays trimming- and AOT-friendly.
internal static class StatsJson
{
    public const string Schema = "fastbuddy-stats/1";

    public static void Write(TextWriter output, string command, string workload, int seed, int pageSize, int maxOrder,
        ArenaStats stats, IReadOnlyList<PhaseCounters>? phases)
    {
        using var buffer = new ArrayPoolBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("schema", Schema);
            json.WriteString("command", command);
            json.WriteString("workload", workload);
            json.WriteNumber("seed", seed);
            json.WriteStartObject("arena");
            json.WriteNumber("page_size", pageSize);
            json.WriteNumber("max_order", maxOrder);
            json.WriteNumber("zone_count", stats.Zones.Count);
            json.WriteEndObject();
            WriteTotals(json, stats);
            WriteSteps(json, "steps", PhaseCounters.StepsOf(stats));
            json.WriteStartArray("zones");
            foreach (ZoneStats zone in stats.Zones)
                WriteZone(json, zone);
            json.WriteEndArray();
            if (phases is not null)
            {
                json.WriteStartArray("phases");
                foreach (PhaseCounters phase in phases)
                    WritePhase(json, phase);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteTotals(Utf8JsonWriter json, ArenaStats s)
    {
        json.WriteStartObject("totals");
        json.WriteNumber("pages", s.TotalPages);
        json.WriteNumber("free_pages", s.FreePages);
        json.WriteNumber("per_cpu_pages", s.PerCpuPages);
        json.WriteNumber("active_pages", s.ActivePages);
        json.WriteNumber("inactive_dirty_pages", s.InactiveDirtyPages);
        json.WriteNumber("inactive_clean_pages", s.InactiveCleanPages);
        json.WriteNumber("allocations", s.Allocations);
        json.WriteNumber("frees", s.Frees);
        json.WriteNumber("failures", s.Failures);
        json.WriteNumber("reclaimed", s.Reclaimed);
        json.WriteNumber("laundered", s.Laundered);
        json.WriteNumber("memory_pressure", s.MemoryPressure);
        json.WriteNumber("inactive_target", s.InactiveTarget);
        json.WriteNumber("freepages_min", s.FreePagesMin);
        json.WriteNumber("freepages_low", s.FreePagesLow);
        json.WriteNumber("freepages_high", s.FreePagesHigh);
        json.WriteEndObject();
    }

    private static void WriteSteps(Utf8JsonWriter json, string name, long[] steps)
    {
        json.WriteStartObject(name);
        for (int i = 0; i < steps.Length; i++)
            json.WriteNumber(PhaseCounters.StepNames[i], steps[i]);
        json.WriteEndObject();
    }

    private static void WriteZone(Utf8JsonWriter json, ZoneStats z)
    {
        json.WriteStartObject();
        json.WriteString("name", z.Name);
        json.WriteNumber("pages", z.Pages);
        json.WriteNumber("free_pages", z.FreePages);
        json.WriteNumber("per_cpu_pages", z.PerCpuPages);
        json.WriteStartObject("watermarks");
        json.WriteNumber("min", z.PagesMin);
        json.WriteNumber("low", z.PagesLow);
        json.WriteNumber("high", z.PagesHigh);
        json.WriteEndObject();
        json.WriteStartObject("lru");
        json.WriteNumber("active", z.ActivePages);
        json.WriteNumber("inactive_dirty", z.InactiveDirtyPages);
        json.WriteNumber("inactive_clean", z.InactiveCleanPages);
        json.WriteEndObject();
        json.WriteStartArray("free_blocks");
        foreach (long blocks in z.FreeBlocks)
            json.WriteNumberValue(blocks);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WritePhase(Utf8JsonWriter json, PhaseCounters p)
    {
        json.WriteStartObject();
        json.WriteString("name", p.Phase);
        json.WriteNumber("allocations", p.Allocations);
        json.WriteNumber("frees", p.Frees);
        json.WriteNumber("failures", p.Failures);
        json.WriteNumber("reclaimed", p.Reclaimed);
        json.WriteNumber("laundered", p.Laundered);
        WriteSteps(json, "steps", p.Steps);
        json.WriteEndObject();
    }
}
