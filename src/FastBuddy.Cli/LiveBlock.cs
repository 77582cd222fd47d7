namespace FastBuddy.Cli;

// A block the demo workload holds. Order >= 0: from AllocPages (freed with FreePages); Order < 0: from the byte
// API (freed with Free). Pattern != 0: the first Written bytes hold that byte value and are checked before the
// block is freed or after it is moved by Realloc.
internal record struct LiveBlock(nint Address, int Order, nuint Bytes, byte Pattern, nuint Written)
{
    public readonly bool IsBytes => Order < 0;
}
