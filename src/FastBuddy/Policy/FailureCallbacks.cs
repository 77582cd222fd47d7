namespace FastBuddy.Policy;

/// <summary>
/// The host code an allocation calls on its way to failing (step 7): the out-of-memory handler, then the log.
/// Either may allocate from an arena itself; when that nested allocation fails as well, it does not call them
/// again, so they never nest (a per-thread guard: one handler and one failure message at a time per thread).
/// </summary>
internal static class FailureCallbacks
{
    [ThreadStatic] private static bool t_inHandler;
    [ThreadStatic] private static bool t_inLog;

    /// <summary>Asks the handler for a retry; false, without asking, inside a handler already running on this thread.</summary>
    public static bool AskOutOfMemory(OutOfMemoryHandler handler, BuddyArena arena, int order, AllocFlags flags)
    {
        if (t_inHandler)
            return false;
        t_inHandler = true;
        try
        {
            return arena.AskOutOfMemoryHandler(handler, order, flags);
        }
        finally
        {
            t_inHandler = false;
        }
    }

    /// <summary>Logs the failure, unless this thread is already inside the logger for one.</summary>
    public static void LogAllocationFailed(BuddyArena arena, int order, AllocFlags flags)
    {
        if (t_inLog)
            return;
        t_inLog = true;
        try
        {
            arena.LogAllocationFailed(order, flags);
        }
        finally
        {
            t_inLog = false;
        }
    }
}
