namespace FastBuddy.Diagnostics;

/// <summary>The cold paths where <see cref="FaultInjection"/> can make the library fail.</summary>
internal enum FaultPoint
{
    /// <summary>The operating system's reservation of a zone's memory (Platform's Reserve).</summary>
    Reservation,

    /// <summary>A managed allocation made while an arena is created: descriptor arrays, bitmaps, lists, tables.</summary>
    CreationAllocation,

    /// <summary>The start of the background reclaimer's thread.</summary>
    ReclaimerStart,
}

/// <summary>
/// Test-only fault injection: makes the Nth call of one <see cref="FaultPoint"/> on the current thread throw the
/// exception the real failure would throw, so tests can walk N = 1, 2, ... until an operation succeeds (as
/// SQLite's OOM-injection loops do) and check that every failure leaves nothing behind.
/// </summary>
/// <remarks>
/// Production pays one read of a static field on each cold path (arena creation, the reclaimer's start), never on
/// an allocation or a free: <see cref="Hit"/> does nothing while no test has armed a plan. A plan belongs to the
/// thread that armed it, so tests running in parallel on other threads never see each other's faults. The same
/// plan keeps a ledger of the reservations its thread made and released, so a test can prove that a failed
/// creation gave every reservation back.
/// </remarks>
internal static class FaultInjection
{
    /// <summary>Number of armed plans in the process; zero in production, which makes <see cref="Hit"/> one read.</summary>
    private static int s_armed;

    [ThreadStatic]
    private static Plan? t_plan;

    /// <summary>A cold path is about to do what <paramref name="point"/> names; throws when the plan says so.</summary>
    public static void Hit(FaultPoint point)
    {
        if (Volatile.Read(ref s_armed) != 0)
            t_plan?.Hit(point);
    }

    /// <summary>A reservation is being released (Platform's Release): counted in the thread's ledger.</summary>
    public static void Released()
    {
        if (Volatile.Read(ref s_armed) != 0 && t_plan is { } plan)
            plan.Releases++;
    }

    /// <summary>The plan armed on the calling thread, if any.</summary>
    public static Plan? CurrentPlan => t_plan;

    /// <summary>Arms a plan on the calling thread: the <paramref name="nth"/> call (1-based) of <paramref name="point"/> fails; 0 fails none.</summary>
    public static Plan Arm(FaultPoint point, int nth)
    {
        if (t_plan is not null)
            throw new InvalidOperationException("A fault-injection plan is already armed on this thread.");
        var plan = new Plan(point, nth);
        t_plan = plan;
        Interlocked.Increment(ref s_armed);
        return plan;
    }

    /// <summary>One thread's plan: which call fails, how many calls were seen, and the reservations still held.</summary>
    internal sealed class Plan : IDisposable
    {
        private readonly FaultPoint _point;
        private readonly int _nth;
        private bool _disposed;

        public Plan(FaultPoint point, int nth)
        {
            _point = point;
            _nth = nth;
        }

        /// <summary>Calls of the armed point seen so far (including the failed one).</summary>
        public int Calls { get; private set; }

        /// <summary>Whether the planned fault was thrown.</summary>
        public bool Fired { get; private set; }

        /// <summary>Reservations asked for on this thread since the plan was armed, not counting the injected failure.</summary>
        public int Reservations { get; private set; }

        /// <summary>Reservations released on this thread since the plan was armed.</summary>
        public int Releases { get; internal set; }

        /// <summary>Reservations still held: asked for minus released (exact while the operating system refuses none).</summary>
        public int LiveReservations => Reservations - Releases;

        internal void Hit(FaultPoint point)
        {
            if (point == _point && ++Calls == _nth)
            {
                Fired = true;
                throw Failure(point);
            }
            if (point == FaultPoint.Reservation)
                Reservations++;
        }

        private static Exception Failure(FaultPoint point) => point switch
        {
            FaultPoint.Reservation => new OutOfMemoryException("Injected fault: the operating system refused the reservation."),
            FaultPoint.CreationAllocation => new OutOfMemoryException("Injected fault: a managed allocation failed."),
            _ => new OutOfMemoryException("Injected fault: the reclaimer's thread could not start."),
        };

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            t_plan = null;
            Interlocked.Decrement(ref s_armed);
        }
    }
}
