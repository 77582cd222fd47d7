using System.Globalization;

namespace FastBuddy.Cli;

// fastbuddy [demo] [--seed N] [--steps N]                       (default) mixed workload on a two-zone 64 MiB arena
// fastbuddy stats [--bytes SIZE] [--page-size SIZE] [--max-order N]   buddyinfo table of a fresh arena
internal static class Program
{
    private const string Usage =
        """
        usage: fastbuddy [demo] [--seed N] [--steps N]
               fastbuddy stats [--bytes SIZE] [--page-size SIZE] [--max-order N]
        SIZE takes a K, M or G suffix (binary units), e.g. --bytes 256M.
        """;

    public static int Main(string[] args)
    {
        try
        {
            if (args.Any(a => a is "--help" or "-h"))
            {
                Console.Out.WriteLine(Usage);
                return 0;
            }
            bool hasCommand = args.Length > 0 && !args[0].StartsWith('-');
            string command = hasCommand ? args[0] : "demo";
            Dictionary<string, string> options = ParseOptions(hasCommand ? args[1..] : args);
            switch (command)
            {
                case "demo":
                {
                    long seed = Number(options, "--seed", 2401);
                    long steps = Number(options, "--steps", 20_000);
                    RejectUnknown(options);
                    return Demo.Run(Console.Out, (int)seed, (int)Math.Min(steps, int.MaxValue));
                }
                case "stats":
                {
                    long bytes = Number(options, "--bytes", 64L << 20);
                    long pageSize = Number(options, "--page-size", 4096);
                    long maxOrder = Number(options, "--max-order", 11);
                    RejectUnknown(options);
                    return Stats(bytes, (int)Math.Min(pageSize, int.MaxValue), (int)Math.Min(maxOrder, int.MaxValue));
                }
                case "help":
                    Console.Out.WriteLine(Usage);
                    return 0;
                default:
                    throw new UsageException($"unknown command '{command}'");
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"fastbuddy: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"fastbuddy: failed: {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    private static int Stats(long bytes, int pageSize, int maxOrder)
    {
        if (bytes <= 0)
            throw new UsageException("--bytes must be positive");
        using var arena = new BuddyArena(new ArenaOptions
        {
            ArenaBytes = (nuint)bytes,
            PageSize = pageSize,
            MaxOrder = maxOrder,
            BackgroundReclaim = false,
        });
        StatsReport.Print(Console.Out, $"arena of {bytes} bytes, {arena.PageSize}-byte pages, {arena.MaxOrder} orders", arena);
        arena.Validate();
        Console.Out.WriteLine("validate: ok");
        return 0;
    }

    private static Dictionary<string, string> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"unexpected argument '{args[i]}'");
            if (i + 1 >= args.Length)
                throw new UsageException($"{args[i]} needs a value");
            options[args[i]] = args[++i];
        }
        return options;
    }

    private static void RejectUnknown(Dictionary<string, string> options)
    {
        foreach (string name in options.Keys)
            throw new UsageException($"unknown option '{name}'");
    }

    // A non-negative number with an optional K, M or G suffix.
    private static long Number(Dictionary<string, string> options, string name, long fallback)
    {
        if (!options.Remove(name, out string? text))
            return fallback;
        string digits = text;
        long unit = 1;
        if (digits.Length > 0)
        {
            unit = char.ToUpperInvariant(digits[^1]) switch
            {
                'K' => 1L << 10,
                'M' => 1L << 20,
                'G' => 1L << 30,
                _ => 1,
            };
            if (unit != 1)
                digits = digits[..^1];
        }
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > long.MaxValue / unit)
            throw new UsageException($"{name}: '{text}' is not a number");
        return value * unit;
    }
}
