using CsCheck;
using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// Random sequences of Alloc, Realloc and Free over every size (objects of every class and page blocks) against a
/// model of the live allocations: each has the predicted usable size, overlaps no other, keeps its contents, and
/// the slab statistics count exactly the model's objects; Validate every few steps; at the end everything is freed
/// and every page comes back.
/// </summary>
public abstract unsafe class MixedSizeModelTests(bool magazines) : SlabSpec(magazines)
{
    private readonly record struct Live(nuint Usable, ulong Seed);

    /// <summary>The model: live allocations by address, and the arena they live in.</summary>
    private sealed class Model(BuddyArena arena)
    {
        private readonly Dictionary<nint, Live> _live = [];
        private ulong _seed = 1;

        public int Count => _live.Count;

        public nint Pick(int pick) => _live.Keys.ElementAt(pick % _live.Count);

        /// <summary>The class size for requests up to SmallMax (8-byte steps to 64, then 8 per doubling), else the block.</summary>
        public nuint Predict(nuint bytes)
        {
            if (bytes > (nuint)arena.SmallMax)
                return (nuint)arena.PageSize * System.Numerics.BitOperations.RoundUpToPowerOf2((bytes + (nuint)arena.PageSize - 1) / (nuint)arena.PageSize);
            if (bytes <= 64)
                return (bytes + 7) & ~(nuint)7;
            nuint step = (nuint)1 << (System.Numerics.BitOperations.Log2(bytes - 1) - 3);
            return (bytes + step - 1) / step * step;
        }

        public void Alloc(nuint bytes, bool zero)
        {
            void* p = arena.Alloc(bytes, Mechanism | (zero ? AllocFlags.Zero : 0));
            Assert.True(p != null, $"Alloc({bytes}) failed ({BuddyArena.LastError})");
            nuint usable = arena.UsableSize(p);
            Assert.Equal(Predict(bytes), usable);
            Assert.Equal(0, (nint)p % (usable > (nuint)arena.SmallMax ? (nint)usable : AlignmentOf((int)usable)));
            if (zero)
                Patterns.AssertAllBytes(p, usable, 0);
            Add(p, usable);
        }

        public void Realloc(int pick, nuint bytes)
        {
            nint p = Pick(pick);
            Live old = _live[p];
            void* q = arena.Realloc((void*)p, bytes, Mechanism);
            Assert.True(q != null, $"Realloc to {bytes} failed ({BuddyArena.LastError})");
            nuint usable = arena.UsableSize(q);
            Assert.Equal(Predict(bytes), usable);
            if (old.Usable <= (nuint)arena.SmallMax && usable == old.Usable)
                Assert.True(q == (void*)p, "a Realloc within the class moved the object");
            Patterns.AssertIntact(q, Math.Min(old.Usable, usable), old.Seed);
            _live.Remove(p);
            Add(q, usable);
        }

        public void Free(int pick)
        {
            nint p = Pick(pick);
            Patterns.AssertIntact((void*)p, _live[p].Usable, _live[p].Seed);
            _live.Remove(p);
            arena.Free((void*)p);
        }

        private void Add(void* p, nuint usable)
        {
            foreach ((nint a, Live l) in _live)
                Assert.False((nint)p < a + (nint)l.Usable && a < (nint)p + (nint)usable, $"0x{(nint)p:x} ({usable} B) overlaps 0x{a:x} ({l.Usable} B)");
            ulong seed = _seed++;
            Patterns.Fill(p, usable, seed);
            _live[(nint)p] = new Live(usable, seed);
        }

        /// <summary>Validate, every pattern intact, and the slab statistics count exactly the model's objects.</summary>
        public void Check()
        {
            arena.Validate();
            long objects = 0, bytes = 0;
            var perClass = new Dictionary<int, long>();
            foreach ((nint a, Live l) in _live)
            {
                Patterns.AssertIntact((void*)a, l.Usable, l.Seed);
                if (l.Usable > (nuint)arena.SmallMax)
                    continue;
                objects++;
                bytes += (long)l.Usable;
                perClass[(int)l.Usable] = perClass.GetValueOrDefault((int)l.Usable) + 1;
            }
            ArenaStats s = arena.GetStats();
            Assert.Equal((objects, bytes), (s.SlabObjects, s.SlabObjectBytes));
            foreach (SlabClassStats c in s.SlabClasses)
            {
                Assert.Equal(perClass.GetValueOrDefault(c.ObjectSize), c.ObjectsInUse);
                Assert.Equal(c.Slabs * c.ObjectsPerSlab - c.ObjectsInUse, c.FreeObjects);
            }
        }

        public void FreeAll()
        {
            while (_live.Count > 0)
                Free(0);
        }
    }

    /// <summary>Mostly small sizes, some up to SmallMax, a few page blocks (as a malloc workload is).</summary>
    private static nuint Size(Random random) => random.Next(100) switch
    {
        < 60 => (nuint)random.Next(1, 257),
        < 85 => (nuint)random.Next(257, 4097),
        < 97 => (nuint)random.Next(4097, 32769),
        _ => (nuint)random.Next(32769, 300_000),
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TwentyThousandRandomOperations_OverEverySize_KeepTheModel(int seed)
    {
        using BuddyArena arena = NewArena();
        var model = new Model(arena);
        var random = new Random(seed);

        for (int step = 0; step < 20_000; step++)
        {
            int dice = random.Next(100);
            if (model.Count == 0 || (dice < 45 && model.Count < 400))
                model.Alloc(Size(random), zero: random.Next(10) == 0);
            else if (dice < 65)
                model.Realloc(random.Next(), Size(random));
            else
                model.Free(random.Next());
            if (step % 500 == 0)
                model.Check();
        }

        model.Check();
        model.FreeAll();
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    /// <summary>One generated operation: kind 0 alloc, 1 realloc, 2 free; a pick; a size.</summary>
    private static readonly Gen<(int Kind, int Pick, int Size)[]> Operations =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 1000], Gen.OneOf(Gen.Int[1, 256], Gen.Int[257, 32768], Gen.Int[32769, 100_000])).Array[1, 80];

    [Fact]
    public void GeneratedSequences_KeepTheModel_AndGiveEveryPageBack()
    {
        Operations.Sample(ops =>
        {
            using BuddyArena arena = NewArena(pages: 1024);
            var model = new Model(arena);
            int step = 0;
            foreach ((int kind, int pick, int size) in ops)
            {
                if (kind == 0 || model.Count == 0)
                    model.Alloc((nuint)size, zero: pick % 7 == 0);
                else if (kind == 1)
                    model.Realloc(pick, (nuint)size);
                else
                    model.Free(pick);
                if (++step % 10 == 0)
                    model.Check();
            }
            model.Check();
            model.FreeAll();
            SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
        }, iter: 200);
    }
}

/// <summary>The mixed-size model with per-thread magazines (owned slabs).</summary>
public sealed class MixedSizeModelTestsWithMagazines() : MixedSizeModelTests(magazines: true);

/// <summary>The mixed-size model without magazines (shared slabs).</summary>
public sealed class MixedSizeModelTestsShared() : MixedSizeModelTests(magazines: false);
