using FastBuddy.Cli;

// The verbs run one after another: a seeded run is repeatable only while memory_pressure's once-a-second decay does
// not fall inside it, so the tests keep runs short and never compete for the two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace FastBuddy.Cli.Tests;

/// <summary>What one in-process run of the command line printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string[] Lines => Output.Split('\n', StringSplitOptions.None).Select(l => l.TrimEnd('\r')).ToArray();
}

/// <summary>Runs fastbuddy's verbs in-process with captured output.</summary>
public static class Cli
{
    /// <summary>A short churn keeps every run well inside one second (see the assembly attribute above).</summary>
    public const string ShortChurn = "3000";

    public static CliResult Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = CliApp.Run(args, output, error);
        return new CliResult(exit, output.ToString(), error.ToString());
    }

    public static CliResult RunOk(params string[] args)
    {
        CliResult result = Run(args);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}");
        return result;
    }
}
