using Microsoft.Extensions.Logging;

namespace FastBuddy.Cli;

// A small console-style ILogger for the arena ("warn: FastBuddy[1] 0-order allocation failed ..."), writing to
// whatever writer the verb points it at (the story, a phase's buffer while the live view owns the screen, stderr).
internal sealed class TextLogger(TextWriter output, string category = "FastBuddy") : ILogger
{
    public TextWriter Output { get; set; } = output;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
            return;
        string level = logLevel switch
        {
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
        Output.WriteLine($"{level}: {category}[{eventId.Id}] {formatter(state, exception)}");
        if (exception is not null)
            Output.WriteLine($"      {exception.GetType().Name}: {exception.Message}");
    }
}
