using FastBuddy.Platform;

namespace FastBuddy.PerThread;

/// <summary>
/// The managed side of one magazine: its memory, its owner thread, the lock that orders the other threads that
/// reach into it (drains, frees of its blocks), and the arena it serves.
/// </summary>
/// <remarks>
/// A magazine's memory belongs to its thread, not to an arena: C code may keep a pointer to it in a thread-local
/// for the thread's whole life, so it is freed only after the thread has exited (<see cref="MagazineDirectory"/>).
/// When its arena is disposed it is detached (<see cref="Arena"/> null, its arena key cleared) and the thread may
/// reuse it for another arena.
/// </remarks>
internal sealed unsafe class MagazineHandle
{
    public MagazineHandle(int bytes)
    {
        Bytes = bytes;
        Ptr = (Magazine*)NativeBlocks.AllocZeroed((nuint)bytes);
        Owner = Thread.CurrentThread;
    }

    public Magazine* Ptr { get; private set; }
    public int Bytes { get; }
    public Thread Owner { get; }
    public readonly Lock DrainLock = new();

    /// <summary>The arena's layer it serves; null while detached.</summary>
    public ThreadMagazines? Arena;

    /// <summary>Its owner slot in that arena (the low half of its tag).</summary>
    public int Slot;

    /// <summary>The owner has exited (managed threads: no longer alive; C threads: flagged by their exit destructor).</summary>
    public bool OwnerGone => !Owner.IsAlive || Ptr->Exited != 0;

    private long _deadSince;

    /// <summary>
    /// The memory may go: the thread is no longer alive, and was already seen dead at least a second ago. The grace
    /// covers a C thread's exit, whose thread-local destructors (the header's, which flag <see cref="Magazine.Exited"/>)
    /// may still run after the runtime has let the thread go.
    /// </summary>
    public bool MemoryFreeable
    {
        get
        {
            if (Owner.IsAlive)
                return false;
            long now = Environment.TickCount64;
            if (_deadSince == 0)
                _deadSince = now;
            return now - _deadSince >= 1000;
        }
    }

    /// <summary>Frees the memory; only once the owner is gone.</summary>
    public void Release()
    {
        if (Ptr != null)
        {
            NativeBlocks.Free(Ptr);
            Ptr = null;
        }
    }
}
