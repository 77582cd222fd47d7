namespace FastBuddy;

/// <summary>One zone of an arena: a name and a size (rounded down to whole pages), with optional explicit watermarks.</summary>
/// <param name="Name">Shown in statistics.</param>
/// <param name="Bytes">Zone size; rounded down to a multiple of the page size.</param>
public sealed record ZoneOptions(string Name, nuint Bytes)
{
    /// <summary>Explicit pages_min; null means computed by the 2.4 rule. Alone it gives low = 2 x min, high = 3 x min.</summary>
    public long? PagesMin { get; init; }

    /// <summary>Explicit pages_low; requires <see cref="PagesMin"/>.</summary>
    public long? PagesLow { get; init; }

    /// <summary>Explicit pages_high; requires <see cref="PagesMin"/>.</summary>
    public long? PagesHigh { get; init; }
}
