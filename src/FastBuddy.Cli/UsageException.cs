namespace FastBuddy.Cli;

// Bad command line: reported with the usage text and exit code 2.
internal sealed class UsageException(string message) : Exception(message);
