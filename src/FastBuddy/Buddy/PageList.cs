namespace FastBuddy.Buddy;

/// <summary>
/// An intrusive circular doubly linked list of pages threaded through <see cref="PageDescriptor.Next"/> and
/// <see cref="PageDescriptor.Prev"/>: O(1) push at the head, O(1) unlink anywhere, the tail is the head's Prev.
/// </summary>
/// <remarks>Used for the free areas (one per order) and the page cache's LRU lists. Callers hold the zone lock.</remarks>
internal unsafe struct PageList
{
    public const int Nil = -1;

    /// <summary>Index of the first page, or <see cref="Nil"/>.</summary>
    public int Head;

    /// <summary>Number of entries.</summary>
    public long Count;

    public static PageList Empty => new() { Head = Nil };

    public readonly int Tail(PageDescriptor* d) => Head == Nil ? Nil : d[Head].Prev;

    public void PushHead(PageDescriptor* d, int page)
    {
        ref PageDescriptor p = ref d[page];
        if (Head == Nil)
        {
            p.Next = page;
            p.Prev = page;
        }
        else
        {
            ref PageDescriptor h = ref d[Head];
            int tail = h.Prev;
            p.Next = Head;
            p.Prev = tail;
            d[tail].Next = page;
            h.Prev = page;
        }
        Head = page;
        Count++;
    }

    public void Remove(PageDescriptor* d, int page)
    {
        ref PageDescriptor p = ref d[page];
        if (p.Next == page)
        {
            Head = Nil;
        }
        else
        {
            d[p.Prev].Next = p.Next;
            d[p.Next].Prev = p.Prev;
            if (Head == page)
                Head = p.Next;
        }
        p.Next = Nil;
        p.Prev = Nil;
        Count--;
    }

    /// <summary>Removes and returns the head, or <see cref="Nil"/> when empty.</summary>
    public int PopHead(PageDescriptor* d)
    {
        int page = Head;
        if (page != Nil)
            Remove(d, page);
        return page;
    }
}
