using FastBuddy.Slab;

namespace FastBuddy.PerThread;

/// <summary>
/// The slabs a thread owns, per size class: its current slab (where the object fast paths allocate) and a list of
/// other slabs it adopted (with free objects), in the object part of its magazine.
/// </summary>
/// <remarks>
/// Like the page lists, only the owner touches them, inside its window, or another thread after the magazine's
/// handshake (a drain, the arena's dispose). The list is linked through the slab headers, out of band.
/// </remarks>
internal sealed unsafe class OwnedSlabs
{
    private readonly SlabCaches _caches;

    public OwnedSlabs(SlabCaches caches) => _caches = caches;

    public SlabCaches Caches => _caches;

    /// <summary>Puts an adopted slab on the thread's list for its class.</summary>
    public void Link(Magazine* m, SlabHeader* s)
    {
        int* head = Magazine.Owned(m) + s->Class;
        s->Prev = 0;
        s->Next = *head;
        if (*head != 0)
            _caches.Header(*head)->Prev = s->Id;
        *head = s->Id;
    }

    /// <summary>Takes a slab off the thread's list (not the current one).</summary>
    public void Unlink(Magazine* m, SlabHeader* s)
    {
        if (s->Prev != 0)
            _caches.Header(s->Prev)->Next = s->Next;
        else
            Magazine.Owned(m)[s->Class] = s->Next;
        if (s->Next != 0)
            _caches.Header(s->Next)->Prev = s->Prev;
        s->Next = s->Prev = 0;
    }

    /// <summary>The next owned slab of <paramref name="cls"/>, off the list; null when there is none.</summary>
    public SlabHeader* TakeNext(Magazine* m, int cls)
    {
        int id = Magazine.Owned(m)[cls];
        if (id == 0)
            return null;
        SlabHeader* s = _caches.Header(id);
        Unlink(m, s);
        return s;
    }

    /// <summary>
    /// Drain: lets every slab of the magazine go (current and listed) to its class's pool, where empty ones become
    /// spares or go back to the buddy system (an exited thread's, <paramref name="keepSpares"/> false, all go back).
    /// Returns the pages that went back.
    /// </summary>
    public long ReleaseAll(Magazine* m, bool keepSpares)
    {
        long released = 0;
        SlabHeader** current = Magazine.Current(m);
        for (int cls = 0; cls < SizeClasses.Count; cls++)
        {
            // Validate drains every magazine first: a reuse line that names anything but free objects of its
            // current slab is counted here, and Validate reports it.
            if (!Magazine.ReuseIntact(m, cls))
                Interlocked.Increment(ref _brokenReuseLines);
            Magazine.ClearReuse(m, cls);
            SlabHeader* s = current[cls];
            if (s != null)
            {
                current[cls] = null;
                released += _caches.Of(s).Release(s, keepSpares);
            }
            while ((s = TakeNext(m, cls)) != null)
                released += _caches.Of(s).Release(s, keepSpares);
        }
        return released;
    }

    private int _brokenReuseLines;

    /// <summary>Reuse lines found unsound by drains so far (0 in a sound arena; see <see cref="Magazine.ReuseIntact"/>).</summary>
    public int BrokenReuseLines => Volatile.Read(ref _brokenReuseLines);

    /// <summary>Whether the magazine owns any slab (a racy look at the heads only, safe while the owner runs).</summary>
    public static bool OwnsAny(Magazine* m)
    {
        for (int cls = 0; cls < SizeClasses.Count; cls++)
        {
            if (Volatile.Read(ref *(nint*)(Magazine.Current(m) + cls)) != 0 || Volatile.Read(ref Magazine.Owned(m)[cls]) != 0)
                return true;
        }
        return false;
    }

    /// <summary>The arena's end: the magazine forgets its slabs (their memory goes with the arena).</summary>
    public static void Forget(Magazine* m)
    {
        for (int cls = 0; cls < SizeClasses.Count; cls++)
        {
            Magazine.Current(m)[cls] = null;
            Magazine.Owned(m)[cls] = 0;
            Magazine.ClearReuse(m, cls);
        }
        m->Slabs = null;
        m->Recent = SlabHeader.Nowhere;
    }
}
