namespace FastBuddy.Cli;

// fastbuddy demo | stats | map: see CliApp, docs/cli.md and `fastbuddy --help`.
internal static class Program
{
    public static int Main(string[] args) => CliApp.Run(args, Console.Out, Console.Error);
}
