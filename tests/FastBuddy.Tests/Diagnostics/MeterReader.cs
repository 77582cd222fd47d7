using System.Diagnostics.Metrics;
using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Diagnostics;

/// <summary>One measurement of the FastBuddy meter: instrument, value and tags.</summary>
public sealed record MeterSample(string Instrument, long Value, IReadOnlyDictionary<string, object?> Tags)
{
    public object? Tag(string name) => Tags.TryGetValue(name, out object? v) ? v : null;
}

/// <summary>
/// Collects the observable instruments of the "FastBuddy" meter once (<see cref="MeterListener"/>) and keeps the
/// measurements of one arena: those tagged with its id, or untagged ones while it is the only live arena (other
/// test classes create arenas in parallel, so a test never assumes it is alone).
/// </summary>
internal static class MeterReader
{
    public static IReadOnlyList<MeterSample> Read(BuddyArena arena)
    {
        int? id = ArenaMetrics.IdOf(arena);
        Assert.NotNull(id);
        return ReadAll().Where(s => s.Tag("arena") is null || Equals(s.Tag("arena"), id)).ToList();
    }

    public static IReadOnlyList<MeterSample> ReadAll()
    {
        var samples = new List<MeterSample>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ArenaMetrics.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in tags)
                map[tag.Key] = tag.Value;
            lock (samples)
                samples.Add(new MeterSample(instrument.Name, value, map));
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return samples;
    }

    /// <summary>The single value of <paramref name="instrument"/> with the given tags (zone, and one more).</summary>
    public static long Value(this IReadOnlyList<MeterSample> samples, string instrument, string? zone = null, string? tag = null, object? tagValue = null)
        => Assert.Single(samples, s => s.Instrument == instrument
            && (zone is null || Equals(s.Tag("zone"), zone))
            && (tag is null || Equals(s.Tag(tag), tagValue))).Value;
}
