namespace FastBuddy.Buddy;

/// <summary>
/// Runs: several contiguous blocks of the top order (MaxOrder-1) handed out as one allocation, for requests larger
/// than the largest block.
/// </summary>
/// <remarks>
/// A run takes free max-order blocks straight off the top free area, which has no merge bitmap (nothing merges
/// beyond the top order), so taking and returning them changes no pair bit. The first block's head is an allocated
/// head of the top order flagged <see cref="PageFlags.Run"/>, its otherwise unused <see cref="PageDescriptor.Next"/>
/// holding the run's length in blocks; the other blocks' heads are flagged <see cref="PageFlags.RunMember"/>, so
/// that no page of a run passes for a block of its own (<see cref="CheckTag"/> refuses the head as one block with
/// OrderMismatch, a member as NotABlock). Freeing puts every block back on the top free area. Lock held throughout.
/// </remarks>
internal sealed unsafe partial class Zone
{
    private const ulong RunFlagBits = (ulong)PageFlags.Run << PageDescriptor.FlagsShift;
    private const ulong MemberFlagBits = (ulong)PageFlags.RunMember << PageDescriptor.FlagsShift;

    private int TopOrder => MaxOrder - 1;

    /// <summary>The longest run this zone could ever hold: its whole max-order blocks (the tail is smaller blocks).</summary>
    public int RunCapacity => Pages >> TopOrder;

    /// <summary>Whether <paramref name="page"/>'s descriptor says it heads a run (a hint without the lock; <see cref="CheckRun"/> decides).</summary>
    public bool IsRunHead(int page) => (Desc[page].Flags & PageFlags.Run) != 0;

    /// <summary>The length in blocks of the run headed by <paramref name="page"/> (checked by <see cref="CheckRun"/>).</summary>
    public int RunBlocks(int page) => Desc[page].Next;

    /// <summary>
    /// Takes the lowest <paramref name="blocks"/> contiguous free max-order blocks as one run and returns its first
    /// page, or -1: no such blocks, or the take would leave fewer than <paramref name="floor"/> free pages. One scan
    /// of the zone's max-order blocks.
    /// </summary>
    public int TakeRun(int blocks, long floor)
    {
        int top = TopOrder;
        long pages = (long)blocks << top;
        if (blocks < 1 || FreePages - pages < floor || _free[top].Count < blocks)
            return -1;
        int head = FindRun(blocks);
        if (head < 0)
            return -1;
        TakeBlocks(head, 0, blocks);
        return head;
    }

    /// <summary>
    /// Grows the live run headed by <paramref name="head"/> in place to <paramref name="blocks"/> when the blocks
    /// right after it are free max-order blocks inside the zone and the growth leaves at least
    /// <paramref name="floor"/> free pages. Returns false (and changes nothing) otherwise.
    /// </summary>
    public bool TryGrowRun(int head, int blocks, long floor)
    {
        int top = TopOrder;
        int old = Desc[head].Next;
        if ((head >> top) + blocks > RunCapacity || FreePages - ((long)(blocks - old) << top) < floor)
            return false;
        for (int i = old; i < blocks; i++)
        {
            ref PageDescriptor d = ref Desc[head + (i << top)];
            if ((d.Flags & PageFlags.FreeHead) == 0 || d.Order != top)
                return false;
        }
        TakeBlocks(head, old, blocks);
        return true;
    }

    /// <summary>Takes the free blocks <paramref name="from"/> .. <paramref name="to"/> - 1 of the run at <paramref name="head"/> off the top free area.</summary>
    private void TakeBlocks(int head, int from, int to)
    {
        int top = TopOrder;
        for (int i = from; i < to; i++)
        {
            int page = head + (i << top);
            TakeFree(page, top);
            Commit.Taken(page, top);
            PageDescriptor.TagOf(ref Desc[page]) = i == 0
                ? PageDescriptor.HeadTag(0, top) | RunFlagBits
                : MemberFlagBits | (ulong)(uint)top << PageDescriptor.OrderShift;
        }
        Desc[head].Next = to;
        FreePages -= (long)(to - from) << top;
        UpdateGate();
    }

    /// <summary>The first page of the lowest window of <paramref name="blocks"/> free max-order blocks, or -1.</summary>
    private int FindRun(int blocks)
    {
        int top = TopOrder;
        int length = 0;
        for (int b = 0; b < RunCapacity; b++)
        {
            ref PageDescriptor d = ref Desc[b << top];
            length = (d.Flags & PageFlags.FreeHead) != 0 && d.Order == top ? length + 1 : 0;
            if (length == blocks)
                return (b - blocks + 1) << top;
        }
        return -1;
    }

    /// <summary>
    /// Why freeing <paramref name="page"/> as a run (of <paramref name="blocks"/> blocks; 0: of any length) would be
    /// wrong, or Ok. A live block that is not a run, or a run of another length, is OrderMismatch (not allocated
    /// with that size); anything else has the page layer's status (NotABlock inside a block or run, DoubleFree).
    /// </summary>
    public FastBuddyStatus CheckRun(int page, int blocks = 0)
    {
        ulong tag = Volatile.Read(ref PageDescriptor.TagOf(ref Desc[page]));
        if (tag == (PageDescriptor.HeadTag(0, TopOrder) | RunFlagBits))
            return blocks == 0 || blocks == Desc[page].Next ? FastBuddyStatus.Ok : FastBuddyStatus.OrderMismatch;
        FastBuddyStatus status = CheckTag(page, Desc[page].Order, tag);
        return status == FastBuddyStatus.Ok ? FastBuddyStatus.OrderMismatch : status;
    }

    /// <summary>Returns a checked run to the free areas, each of its blocks on the top free area.</summary>
    public void FreeRun(int head)
    {
        int top = TopOrder;
        int blocks = Desc[head].Next;
        for (int i = 0; i < blocks; i++)
        {
            int page = head + (i << top);
            // The head keeps Freed (a second free is a double free); a member never was a block of its own.
            PageDescriptor.TagOf(ref Desc[page]) = i == 0 ? (ulong)PageFlags.Freed << PageDescriptor.FlagsShift : 0;
            AddFree(page, top);
        }
        FreePages += (long)blocks << top;
        UpdateGate();
    }

    /// <summary>Shortens the run headed by <paramref name="head"/> to <paramref name="blocks"/> (at least 2: a run is never one block), freeing its tail blocks.</summary>
    public void ShrinkRun(int head, int blocks)
    {
        int top = TopOrder;
        int old = Desc[head].Next;
        for (int i = blocks; i < old; i++)
        {
            int page = head + (i << top);
            PageDescriptor.TagOf(ref Desc[page]) = 0;
            AddFree(page, top);
        }
        Desc[head].Next = blocks;
        FreePages += (long)(old - blocks) << top;
        UpdateGate();
    }
}
