using System.Numerics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;

namespace FastBuddy.Slab;

/// <summary>
/// One size class's slab cache (2.4's <c>kmem_cache_t</c>): the geometry of its slabs and a pool of slabs that
/// no thread owns, under one lock.
/// </summary>
/// <remarks>
/// <para>
/// A slab is a block of 2^<see cref="Order"/> pages cut into <see cref="Objects"/> objects of <see cref="Size"/>
/// bytes; the order is the smallest that holds at least eight objects (or the bitmap's 512) and wastes at most
/// 1/16 of the block at its end. A slab belongs to one thread at a time, which allocates from it and frees into
/// it with plain stores; every other thread frees into it with one interlocked OR on its remote bitmap.
/// </para>
/// <para>
/// Under the lock live the slabs with no owner: <see cref="SlabState.Pooled"/> ones (with free objects, left by
/// an exited or drained thread) for any thread to adopt, up to <see cref="SpareLimit"/> empty
/// <see cref="SlabState.Spare"/> ones (a little hysteresis before the pages go back to the buddy system), and the
/// <see cref="SlabState.Floating"/> ones, full when their owner let them go and in no list until a free arrives.
/// A thread letting a slab go clears its owner with an interlocked exchange and then folds the remote bitmap,
/// while a remote free sets its bit with an interlocked OR and then reads the owner: so either the remote free
/// sees no owner and takes the lock to fold the bit itself, or the releasing thread folds it. No free is lost.
/// </para>
/// </remarks>
internal sealed unsafe class SlabCache
{
    /// <summary>Empty slabs a class keeps before giving pages back.</summary>
    public const int SpareLimit = 2;

    private readonly SlabTable _table;
    private readonly ISlabPages _pages;
    private int _pooled;
    private int _spares;
    private int _spareCount;
    private long _slabs;

    private readonly Zone[] _zones;

    public SlabCache(int cls, int order, int objects, SlabTable table, ISlabPages pages, Zone[] zones)
    {
        _zones = zones;
        Class = cls;
        Size = SizeClasses.SizeOf(cls);
        Order = order;
        Objects = objects;
        Twos = BitOperations.TrailingZeroCount(Size);
        Inverse = SlabHeader.InverseOf((ulong)Size >> Twos);
        _table = table;
        _pages = pages;
    }

    public int Class { get; }
    public int Size { get; }
    public int Order { get; }
    public int Objects { get; }
    /// <summary>The inverse of the size's odd part modulo 2^64, and the size's power of two (see <see cref="SlabHeader.IndexOf"/>).</summary>
    public ulong Inverse { get; }
    public int Twos { get; }
    public Lock Lock { get; } = new();

    /// <summary>Live slabs of this class (owned, floating, pooled and spare).</summary>
    public long Slabs => Volatile.Read(ref _slabs);

    /// <summary>
    /// The slab order for objects of <paramref name="size"/>: the smallest block holding at least eight objects (or
    /// <see cref="SlabHeader.MaxObjects"/>) whose unused tail is at most 1/16 of it; -1 when no order below
    /// <paramref name="maxOrder"/> does.
    /// </summary>
    public static int OrderFor(int size, int pageShift, int maxOrder, out int objects)
    {
        for (int order = 0; order < maxOrder && pageShift + order < 31; order++)
        {
            long bytes = 1L << (pageShift + order);
            objects = (int)Math.Min(bytes / size, SlabHeader.MaxObjects);
            if ((objects >= 8 || objects == SlabHeader.MaxObjects) && (bytes - (long)objects * size) * 16 <= bytes)
                return order;
        }
        objects = 0;
        return -1;
    }

    // ------------------------------------------------------------------ birth and death

    /// <summary>A new slab over a block the policy just handed out, owned by <paramref name="owner"/>; null when no header is left.</summary>
    public SlabHeader* Create(byte* block, Zone zone, int page, int owner)
    {
        int id = _table.Rent();
        if (id == 0)
            return null;
        SlabHeader* s = _table[id];
        *s = default;
        s->Base = block;
        s->Size = (uint)Size;
        s->Objects = (ushort)Objects;
        s->Words = (byte)((Objects + 63) >> 6);
        s->Inverse = Inverse;
        s->Twos = (byte)Twos;
        s->Class = (ushort)Class;
        s->Order = (byte)Order;
        s->Zone = (byte)zone.Index;
        s->Page = page;
        s->Id = id;
        for (int w = 0; w < s->Words; w++)
            s->Free[w] = w < Objects >> 6 ? ulong.MaxValue : (1UL << (Objects & 63)) - 1;
        s->Owner = owner;
        TagPages(zone, page, id);
        Volatile.Write(ref Unsafe.As<SlabState, byte>(ref s->State), (byte)SlabState.Owned); // last: a validator reading it sees the rest
        Interlocked.Increment(ref _slabs);
        return s;
    }

    /// <summary>Marks every page of the slab with its id, so that any object pointer finds the header.</summary>
    private void TagPages(Zone zone, int page, int id)
    {
        PageDescriptor* d = zone.Desc + page;
        for (int i = 0; i < 1 << Order; i++)
        {
            d[i].Next = id;
            ulong tag = i == 0 ? PageDescriptor.HeadTag(0, Order) | PageDescriptor.SlabBit : PageDescriptor.SlabBit;
            Volatile.Write(ref PageDescriptor.TagOf(ref d[i]), tag);
        }
    }

    /// <summary>An empty slab's pages back to the buddy system and its header back to the table. Lock held.</summary>
    private void Destroy(SlabHeader* s)
    {
        Zone zone = ZoneOf(s);
        PageDescriptor* d = zone.Desc + s->Page;
        for (int i = 1 << Order; --i >= 0;)
        {
            d[i].Next = 0;
            Volatile.Write(ref PageDescriptor.TagOf(ref d[i]), i == 0 ? PageDescriptor.HeadTag(0, Order) : 0);
        }
        s->State = SlabState.None;
        s->Owner = 0;
        int id = s->Id;
        _pages.Give(zone, s->Page, Order);
        Interlocked.Decrement(ref _slabs);
        _table.Return(id);
    }

    private Zone ZoneOf(SlabHeader* s) => _zones[s->Zone];

    // ------------------------------------------------------------------ objects

    /// <summary>The owner's pop: the lowest free object from the cursor on, or null when the bitmap is empty.</summary>
    public static byte* Pop(SlabHeader* s)
    {
        for (int w = s->Cursor; w < s->Words; w++)
        {
            ulong bits = s->Free[w];
            if (bits != 0)
            {
                s->Cursor = w;
                return SlabHeader.TakeObject(s, w, bits);
            }
        }
        s->Cursor = s->Words - 1;
        return null;
    }

    /// <summary>
    /// Folds frees from other threads into the owner's bitmap (the owner, or the lock holder of an unowned slab).
    /// A bit already free there was freed twice; it is dropped, never counted twice.
    /// </summary>
    public static void Collect(SlabHeader* s)
    {
        if (Volatile.Read(ref s->RemotePending) == 0 || Interlocked.Exchange(ref s->RemotePending, 0) == 0)
            return;
        for (int w = 0; w < s->Words; w++)
        {
            if (Volatile.Read(ref s->Remote[w]) == 0)
                continue;
            ulong bits = Interlocked.Exchange(ref s->Remote[w], 0) & ~s->Free[w];
            s->Free[w] |= bits;
            s->Used -= BitOperations.PopCount(bits);
            if (bits != 0 && w < s->Cursor)
                s->Cursor = w;
        }
    }

    /// <summary>The owner's free (or the lock holder's, for an unowned slab): DoubleFree when the object is not in use.</summary>
    public static FastBuddyStatus FreeOwned(SlabHeader* s, int index)
        => SlabHeader.ReturnObject(s, index) ? FastBuddyStatus.Ok : FastBuddyStatus.DoubleFree;

    /// <summary>
    /// A free from a thread that does not own the slab: one interlocked OR into the remote bitmap. Returns
    /// DoubleFree when the object is not in use; <paramref name="ownerless"/> says the slab had no owner after the
    /// OR, so the caller must fold the bit itself under the lock (<see cref="FreeUnowned"/> with index -1).
    /// </summary>
    public static FastBuddyStatus FreeRemote(SlabHeader* s, int index, out bool ownerless)
    {
        int w = index >> 6;
        ulong bit = 1UL << index;
        ownerless = false;
        if ((Volatile.Read(ref s->Free[w]) & bit) != 0)
            return FastBuddyStatus.DoubleFree;
        if ((Interlocked.Or(ref s->Remote[w], bit) & bit) != 0)
            return FastBuddyStatus.DoubleFree;
        Volatile.Write(ref s->RemotePending, 1);
        ownerless = Volatile.Read(ref s->Owner) == 0;
        return FastBuddyStatus.Ok;
    }

    // ------------------------------------------------------------------ the pool (class lock)

    /// <summary>
    /// A free into a slab with no owner, under the lock: folds remote frees, frees <paramref name="index"/> (-1:
    /// only fold), and either hands the slab to <paramref name="adopter"/> (a magazine slot, 0 for none) when it
    /// is floating or pooled, or files it by what it now holds. Busy: someone owns the slab now (free remotely).
    /// </summary>
    public FastBuddyStatus FreeUnowned(SlabHeader* s, int index, int adopter, out bool adopted)
    {
        adopted = false;
        lock (Lock)
        {
            if (s->Owner != 0 || s->State is SlabState.None or SlabState.Owned)
                return s->State == SlabState.None ? FastBuddyStatus.DoubleFree : FastBuddyStatus.Busy;
            Collect(s);
            if (index >= 0)
            {
                FastBuddyStatus status = FreeOwned(s, index);
                if (status != FastBuddyStatus.Ok)
                    return status;
            }
            Unlink(s);
            if (adopter != 0 && s->Used > 0)
            {
                s->Owner = adopter;
                s->State = SlabState.Owned;
                adopted = true;
            }
            else
                File(s);
        }
        return FastBuddyStatus.Ok;
    }

    /// <summary>
    /// An owner lets a slab go (it is already off the owner's lists): floating when full, pooled with free
    /// objects, spare or given back when empty (always given back with <paramref name="keepSpare"/> false: an
    /// exited thread's). Returns the pages given back (0 or the slab's).
    /// </summary>
    public int Release(SlabHeader* s, bool keepSpare = true)
    {
        lock (Lock)
        {
            Interlocked.Exchange(ref s->Owner, 0);
            Collect(s);
            if (!keepSpare && s->Used == 0)
            {
                Destroy(s);
                return 1 << Order;
            }
            return File(s);
        }
    }

    /// <summary>A slab for <paramref name="owner"/> from the pool (one with free objects first, then a spare), or null.</summary>
    public SlabHeader* Adopt(int owner)
    {
        if (PoolLooksEmpty)
            return null;
        lock (Lock)
        {
            SlabHeader* s = FirstPooled();
            if (s == null)
                return null;
            Unlink(s);
            s->Owner = owner;
            s->State = SlabState.Owned;
            Collect(s);
            return s;
        }
    }

    /// <summary>Without per-thread magazines: an object from the first pooled (or spare) slab, under the lock; null when there is none.</summary>
    public byte* PopShared()
    {
        if (PoolLooksEmpty)
            return null;
        lock (Lock)
        {
            SlabHeader* s = FirstPooled();
            return s == null ? null : PopAndFile(s);
        }
    }

    /// <summary>A look without the lock, to skip taking it: nothing pooled and no spare.</summary>
    private bool PoolLooksEmpty => Volatile.Read(ref _pooled) == 0 && Volatile.Read(ref _spares) == 0;

    /// <summary>The pool's first slab with free objects, else its first spare, else null. Lock held.</summary>
    private SlabHeader* FirstPooled()
    {
        int id = _pooled != 0 ? _pooled : _spares;
        return id == 0 ? null : _table[id];
    }

    /// <summary>Without per-thread magazines: the first object of a slab just created (with no owner), which then joins the pool.</summary>
    public byte* PopFresh(SlabHeader* s)
    {
        lock (Lock)
        {
            s->State = SlabState.Floating;
            return PopAndFile(s);
        }
    }

    private byte* PopAndFile(SlabHeader* s)
    {
        Unlink(s);
        Collect(s);
        byte* p = Pop(s);
        File(s);
        return p;
    }

    /// <summary>Gives every spare slab's pages back (kswapd and direct reclaim, before any cache page is evicted). Returns pages.</summary>
    public long ReapSpares()
    {
        if (Volatile.Read(ref _spares) == 0)
            return 0;
        long pages = 0;
        lock (Lock)
        {
            while (_spares != 0)
            {
                SlabHeader* s = _table[_spares];
                Unlink(s);
                Destroy(s);
                pages += 1L << Order;
            }
        }
        return pages;
    }

    /// <summary>Files an unowned slab by its content; returns the pages given back. Lock held; the slab is in no list.</summary>
    private int File(SlabHeader* s)
    {
        if (s->Used == 0)
        {
            if (_spareCount >= SpareLimit)
            {
                Destroy(s);
                return 1 << Order;
            }
            Push(s, SlabState.Spare, ref _spares);
        }
        else if (s->Used < s->Objects || Volatile.Read(ref s->RemotePending) != 0)
            Push(s, SlabState.Pooled, ref _pooled);
        else
            s->State = SlabState.Floating;
        return 0;
    }

    private void Push(SlabHeader* s, SlabState state, ref int head)
    {
        s->State = state;
        s->Prev = 0;
        s->Next = head;
        if (head != 0)
            _table[head]->Prev = s->Id;
        head = s->Id;
        if (state == SlabState.Spare)
            _spareCount++;
    }

    /// <summary>Takes a pooled or spare slab off its list (a floating one is in none). Lock held.</summary>
    private void Unlink(SlabHeader* s)
    {
        if (s->State is not (SlabState.Pooled or SlabState.Spare))
            return;
        ref int head = ref s->State == SlabState.Spare ? ref _spares : ref _pooled;
        if (s->State == SlabState.Spare)
            _spareCount--;
        if (s->Prev != 0)
            _table[s->Prev]->Next = s->Next;
        else
            head = s->Next;
        if (s->Next != 0)
            _table[s->Next]->Prev = s->Prev;
        s->Next = s->Prev = 0;
        s->State = SlabState.Floating;
    }

    // ------------------------------------------------------------------ diagnostics (lock held by the caller)

    /// <summary>Slabs in the pool lists (pooled, spare), for the validator.</summary>
    public (int Pooled, int Spare) ListHeads => (_pooled, _spares);

    public int SpareCount => _spareCount;
}
