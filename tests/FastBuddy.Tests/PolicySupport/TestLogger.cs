using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FastBuddy.Tests.PolicySupport;

/// <summary>One message an arena logged.</summary>
public sealed record LogEntry(LogLevel Level, EventId EventId, string Message, Exception? Exception);

/// <summary>A tiny thread-safe <see cref="ILogger"/> that keeps every message.</summary>
public sealed class TestLogger : ILogger
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

    public IReadOnlyList<LogEntry> At(LogLevel level) => _entries.Where(e => e.Level == level).ToArray();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => _entries.Enqueue(new LogEntry(logLevel, eventId, formatter(state, exception), exception));
}
