using System.CommandLine;
using System.CommandLine.Parsing;

namespace FastBuddy.Cli;

// The options the verbs share, made fresh for each verb (a System.CommandLine option belongs to one command).
internal sealed class CliOptions
{
    public Option<int> Seed { get; } = new("--seed")
    {
        Description = "Seed of the random workload. With background reclaim off and kswapd's pass (Balance) at fixed " +
                      "points, one seed gives the same run and the same --json every time.",
        DefaultValueFactory = _ => 2401,
        Validators = { NonNegative },
    };

    public Option<int> Steps { get; } = new("--steps")
    {
        Description = "Random steps of the churn phase (allocations, reallocs and frees).",
        DefaultValueFactory = _ => 20_000,
        Validators = { NonNegative },
    };

    public Option<int> Requests { get; } = new("--requests")
    {
        Description = "Two-page (order-1) requests of the fragment phase, on the fragmented lowest zone.",
        DefaultValueFactory = _ => 8,
        Validators = { NonNegative },
    };

    public Option<ByteSize> Dma { get; } = SizeOption("--dma", "Size of zone DMA, the lowest zone (0: no DMA zone, one zone Normal).", 16L << 20);

    public Option<ByteSize> Normal { get; } = SizeOption("--normal", "Size of zone Normal, the highest zone.", 48L << 20);

    public Option<int> PageSize { get; } = new("--page-size")
    {
        Description = "Page size in bytes (a power of two from 64 to 1048576).",
        DefaultValueFactory = _ => 4096,
    };

    public Option<int> MaxOrder { get; } = new("--max-order")
    {
        Description = "Number of orders: blocks of 2^0 .. 2^(N-1) pages.",
        DefaultValueFactory = _ => 11,
    };

    public void AddArenaAndSeed(Command command)
    {
        command.Add(Seed);
        command.Add(Steps);
        command.Add(Requests);
        command.Add(Dma);
        command.Add(Normal);
        command.Add(PageSize);
        command.Add(MaxOrder);
    }

    public ArenaShape Shape(ParseResult parse)
        => new(parse.GetValue(Dma), parse.GetValue(Normal), parse.GetValue(PageSize), parse.GetValue(MaxOrder));

    public static Option<string> Workload(string fallback) => new("--workload")
    {
        Description = "The workload to run before looking: fresh (nothing), or the demo's phases up to and including " +
                      "churn, cache, fragment or pressure. Its blocks stay held.",
        DefaultValueFactory = _ => fallback,
    };

    public static Option<bool> Json(string what) => new("--json")
    {
        Description = $"Print {what} as JSON (schema fastbuddy-stats/1, see docs/cli.md) instead of text.",
    };

    private static Option<ByteSize> SizeOption(string name, string description, long fallback) => new(name)
    {
        Description = description + " Takes a K, M or G suffix (binary units).",
        HelpName = "SIZE",
        DefaultValueFactory = _ => new ByteSize(fallback),
        CustomParser = ParseSize,
    };

    private static ByteSize ParseSize(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!ByteSize.TryParse(text, out ByteSize size))
            result.AddError($"'{text}' is not a size: digits with an optional K, M or G suffix, e.g. 16M.");
        return size;
    }

    private static void NonNegative(OptionResult result)
    {
        if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[0].Value, out int value) && value < 0)
            result.AddError($"{result.Option.Name} must not be negative.");
    }
}
