using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastBuddy.Native;

/// <summary>
/// The live arenas, indexed by handle. A handle is <c>generation &lt;&lt; 20 | (slot + 1)</c>: the low 20 bits pick a
/// slot of the table and the rest must equal the generation stored there, so a destroyed handle, a handle from
/// another process or a made-up pointer is rejected without being dereferenced.
/// </summary>
/// <remarks>
/// <para>
/// Lookup (every export) is lock-free: read the table, index it, compare one word. Each slot holds an immutable
/// <see cref="ArenaHandle"/> whose <see cref="ArenaHandle.Value"/> is the full handle, so the comparison and the
/// arena come from one reference read and cannot tear against a concurrent destroy and reuse of the slot.
/// </para>
/// <para>
/// Generations come from one global counter that only grows, so a slot reused by a later arena never accepts an
/// earlier arena's handle. Registration and removal take a lock; the table grows by copying and republishing.
/// </para>
/// </remarks>
internal static class HandleTable
{
    private const int SlotBits = 20;
    private const nuint SlotMask = (1u << SlotBits) - 1;
    private const int MaxSlots = (1 << SlotBits) - 1;

    // The only field the lookup reads. No initialiser, so the class has no static constructor and a lookup pays
    // no class-initialisation check: null until the first arena is registered.
    private static ArenaHandle?[]? s_slots;

    /// <summary>The live arena behind <paramref name="handle"/>, or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ArenaHandle? Find(nint handle)
    {
        nuint index = ((nuint)handle & SlotMask) - 1;
        ArenaHandle?[]? slots = Volatile.Read(ref s_slots);
        if (slots is null || index >= (nuint)slots.Length)
            return null;
        ArenaHandle? entry = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(slots), index);
        return entry is not null && entry.Value == handle ? entry : null;
    }

    /// <summary>Gives <paramref name="arena"/> a handle; null when the table is full (2^20 - 1 live arenas).</summary>
    public static ArenaHandle? Register(BuddyArena arena)
    {
        lock (Registry.Lock)
        {
            ArenaHandle?[] slots = s_slots ?? new ArenaHandle?[16];
            int slot;
            if (Registry.FreeSlots.Count > 0)
            {
                slot = Registry.FreeSlots.Pop();
            }
            else
            {
                if (Registry.Used == MaxSlots)
                    return null;
                slot = Registry.Used++;
                if (slot == slots.Length)
                {
                    ArenaHandle?[] grown = new ArenaHandle?[Math.Min(slots.Length * 2, MaxSlots)];
                    slots.CopyTo(grown, 0);
                    slots = grown;
                }
            }
            long generation = ++Registry.Generation;
            nint value = (nint)((generation << SlotBits) | (long)(slot + 1));
            ArenaHandle entry = new(arena, value);
            Volatile.Write(ref slots[slot], entry);
            // Publish after the entry is in place (a grown table is complete before readers can see it).
            Volatile.Write(ref s_slots, slots);
            return entry;
        }
    }

    /// <summary>Takes <paramref name="handle"/> out of the table; false when it is not live (already destroyed).</summary>
    public static bool Remove(nint handle, out ArenaHandle? removed)
    {
        lock (Registry.Lock)
        {
            removed = Find(handle);
            if (removed is null)
                return false;
            int slot = (int)(((nuint)handle & SlotMask) - 1);
            Volatile.Write(ref s_slots![slot], null);
            Registry.FreeSlots.Push(slot);
            return true;
        }
    }

    /// <summary>What only registration and removal touch (under <see cref="Lock"/>).</summary>
    private static class Registry
    {
        public static readonly Lock Lock = new();
        public static readonly Stack<int> FreeSlots = new();
        public static int Used;
        public static long Generation;
    }
}
