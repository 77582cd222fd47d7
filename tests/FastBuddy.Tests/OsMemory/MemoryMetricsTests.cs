using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.OsMemory;

/// <summary>The "FastBuddy" meter reports committed and decommitted bytes and decommits per zone.</summary>
public sealed unsafe class MemoryMetricsTests
{
    [Fact]
    public void MeterListener_ReadsCommittedAndDecommittedBytesPerZone()
    {
        ArenaOptions options = Options();
        options.Zones.Add(TinyWatermarkZone("MetricsLow", 1 << 10));
        options.Zones.Add(TinyWatermarkZone("MetricsHigh", 2 << 10));
        options.DecommitAfter = TimeSpan.Zero;
        using var arena = new BuddyArena(options);
        byte* p = (byte*)arena.AllocPages(10, Mechanism, 1);
        p[0] = 1;
        void* q = arena.AllocPages(10, Mechanism, 1);
        arena.FreePages(p, 10);
        arena.Balance(); // decommits p's block again; q stays committed

        var seen = new ConcurrentDictionary<(string Instrument, string Zone), long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "FastBuddy" && instrument.Name.StartsWith("fastbuddy.memory.", StringComparison.Ordinal)
                || instrument.Name == "fastbuddy.decommits")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? zone = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "zone")
                    zone = (string?)tag.Value;
            }
            if (zone is "MetricsLow" or "MetricsHigh")
                seen[(instrument.Name, zone)] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Equal(0, seen[("fastbuddy.memory.committed", "MetricsLow")]);
        Assert.Equal(4 << 20, seen[("fastbuddy.memory.decommitted", "MetricsLow")]);
        Assert.Equal(4 << 20, seen[("fastbuddy.memory.committed", "MetricsHigh")]);
        Assert.Equal(4 << 20, seen[("fastbuddy.memory.decommitted", "MetricsHigh")]);
        Assert.Equal(1, seen[("fastbuddy.decommits", "MetricsHigh")]);
        Assert.Equal(0, seen[("fastbuddy.decommits", "MetricsLow")]);
        arena.FreePages(q, 10);
        arena.Validate();
    }
}
