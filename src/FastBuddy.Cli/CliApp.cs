using System.CommandLine;
using System.CommandLine.Help;

namespace FastBuddy.Cli;

// The command line: fastbuddy demo | stats | map, parsed with System.CommandLine. Run is the whole program with
// its output and error writers given, so that tests run the verbs in-process and read what they print.
// Exit codes: 0 ok; 1 bad command line (System.CommandLine's message and usage); 2 options the arena rejects;
// 3 the run itself went wrong (a leak, an I/O error).
internal static class CliApp
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        Command root = Build(output, error);
        ParseResult parse = root.Parse(args);
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }

    // A plain command named "fastbuddy" rather than RootCommand, whose name would be the host's file name (the
    // test host's, in tests); it gets the help and version options RootCommand would add.
    public static Command Build(TextWriter output, TextWriter error)
    {
        var root = new Command("fastbuddy",
            "A zoned buddy page allocator with the Linux 2.4 allocation policy, shown at work. Every verb builds an " +
            "arena (zone DMA below zone Normal) with background reclaim off and runs kswapd's pass (Balance) at fixed " +
            "points, so a --seed gives the same run every time. Exit codes: 0 ok, 1 bad command line, 2 options the " +
            "arena rejects, 3 the run failed. See docs/cli.md.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        root.Add(DemoCommand(output, error));
        root.Add(StatsCommand(output, error));
        root.Add(MapCommand(output, error));
        return root;
    }

    private static Command DemoCommand(TextWriter output, TextWriter error)
    {
        var options = new CliOptions();
        Option<bool> json = CliOptions.Json("only the final statistics and the per-phase counters");
        var live = new Option<string>("--live")
        {
            Description = "The live view of the zones while a phase runs: auto (Spectre.Console on a terminal, plain " +
                          "text lines when the output is redirected), plain, or off.",
            DefaultValueFactory = _ => "auto",
        };
        live.AcceptOnlyFromAmong("auto", "plain", "off");
        var command = new Command("demo",
            "Tells the seed's policy phase by phase (churn, page cache, fragmentation, pressure, release): what each " +
            "phase does, its counters (the steps that served it, reclaim, laundering), the buddyinfo table, the " +
            "watermarks against each zone's free pages and the LRU lists with their pages; step 7's message comes " +
            "through the attached logger. The per-thread lists are drained (Validate) before the final table.");
        options.AddArenaAndSeed(command);
        command.Add(json);
        command.Add(live);
        command.SetAction(parse => Guard(error, () => Demo.Run(
            new DemoSettings(options.Shape(parse), parse.GetValue(options.Seed), parse.GetValue(options.Steps),
                parse.GetValue(options.Requests), parse.GetValue(json), parse.GetValue(live)!),
            output, error)));
        return command;
    }

    private static Command StatsCommand(TextWriter output, TextWriter error)
    {
        var options = new CliOptions();
        Option<string> workload = CliOptions.Workload("pressure");
        workload.AcceptOnlyFromAmong(Phases.Choices);
        Option<bool> json = CliOptions.Json("the statistics");
        var command = new Command("stats",
            "Runs a workload on an arena and prints it as /proc/buddyinfo (free blocks per order per zone) and " +
            "/proc/zoneinfo (free pages, watermarks, LRU lists per zone), then the policy's counters; or --json.");
        options.AddArenaAndSeed(command);
        command.Add(workload);
        command.Add(json);
        command.SetAction(parse => Guard(error, () => StatsVerb.Run(Run(options, parse, workload), parse.GetValue(json), output, error)));
        return command;
    }

    private static Command MapCommand(TextWriter output, TextWriter error)
    {
        var options = new CliOptions();
        Option<string> workload = CliOptions.Workload("fragment");
        workload.AcceptOnlyFromAmong(Phases.Choices);
        var svg = new Option<string>("--svg")
        {
            Description = "The SVG file to write: one square per page, coloured by state (free by order, allocated, " +
                          "active, inactive_dirty, inactive_clean, per-thread), with a legend.",
            HelpName = "FILE",
            Required = true,
        };
        svg.AcceptLegalFilePathsOnly();
        var columns = new Option<int>("--columns")
        {
            Description = "Pages per row of the map (8 to 1024).",
            DefaultValueFactory = _ => 128,
        };
        columns.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && int.TryParse(r.Tokens[0].Value, out int n) && (n < 8 || n > 1024))
                r.AddError("--columns must be from 8 to 1024.");
        });
        var command = new Command("map",
            "Runs a workload on an arena and draws every page as SVG, coloured by state, so that fragmentation can be " +
            "seen; prints how many pages are in each state.");
        options.AddArenaAndSeed(command);
        command.Add(workload);
        command.Add(svg);
        command.Add(columns);
        command.SetAction(parse => Guard(error, () =>
            MapVerb.Run(Run(options, parse, workload), parse.GetValue(svg)!, parse.GetValue(columns), output, error)));
        return command;
    }

    private static WorkloadRun Run(CliOptions options, ParseResult parse, Option<string> workload)
        => new(options.Shape(parse), parse.GetValue(workload)!, parse.GetValue(options.Seed), parse.GetValue(options.Steps),
            parse.GetValue(options.Requests));

    // Errors a user can fix get one clear line and a distinct exit code; nothing escapes as a stack trace.
    private static int Guard(TextWriter error, Func<int> verb)
    {
        try
        {
            return verb();
        }
        catch (FastBuddyException e) when (e.Status == FastBuddyStatus.InvalidArgument)
        {
            error.WriteLine($"fastbuddy: the arena rejects these options: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"fastbuddy: {e.Message}");
            return 3;
        }
    }
}
