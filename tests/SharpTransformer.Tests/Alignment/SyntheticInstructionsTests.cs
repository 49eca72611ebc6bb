using SharpTransformer.Alignment;

namespace SharpTransformer.Tests.Alignment;

/// <summary>The synthetic instruction tasks: determinism, correct answers in range, wrong rejected answers.</summary>
public sealed class SyntheticInstructionsTests
{
    [Fact]
    public void TheSameSeedGivesTheSameInstancesAndAnotherSeedOthers()
    {
        var a = SyntheticInstructions.Generate(200, 5);
        Assert.Equal(a, SyntheticInstructions.Generate(200, 5));
        Assert.NotEqual(a.Select(x => x.Record), SyntheticInstructions.Generate(200, 6).Select(x => x.Record));
    }

    [Fact]
    public void EveryAnswerIsRightAndInRangeAndEveryRejectedAnswerIsWrong()
    {
        var all = SyntheticInstructions.Generate(2000, 11);
        Assert.Equal(5, all.Select(x => x.Kind).Distinct().Count());
        foreach (var s in all)
        {
            var (instruction, input, output) = s.Record;
            Assert.NotEqual(output, s.Rejected);
            switch (s.Kind)
            {
                case SyntheticTaskKind.Reverse:
                    Assert.InRange(input.Length, 3, 8);
                    Assert.Equal(new string(input.Reverse().ToArray()), output);
                    break;
                case SyntheticTaskKind.Uppercase:
                    Assert.InRange(input.Split(' ').Length, 2, 3);
                    Assert.Equal(input.ToUpperInvariant(), output);
                    break;
                case SyntheticTaskKind.Add:
                    var n = input.Split(" + ").Select(int.Parse).ToArray();
                    Assert.All(n, x => Assert.InRange(x, 0, 99));
                    Assert.Equal((n[0] + n[1]).ToString(), output);
                    break;
                case SyntheticTaskKind.Sort:
                    Assert.InRange(input.Length, 3, 6);
                    Assert.Equal(new string(input.Order().ToArray()), output);
                    break;
                case SyntheticTaskKind.Repeat:
                    int times = int.Parse(instruction.Split(' ')[3]);
                    Assert.InRange(times, 2, 4);
                    Assert.InRange(input.Length, 3, 8);
                    Assert.Equal(string.Join(' ', Enumerable.Repeat(input, times)), output);
                    break;
            }
            Assert.All(instruction + input + output + s.Rejected, c => Assert.Contains(c, SyntheticInstructions.Alphabet));
        }
    }

    [Fact]
    public void ExcludedPromptsNeverAppear()
    {
        var held = SyntheticInstructions.Generate(300, 1, distinct: true);
        Assert.Equal(300, held.Select(h => SyntheticInstructions.Key(h.Record)).Distinct().Count());
        var keys = held.Select(h => SyntheticInstructions.Key(h.Record)).ToHashSet();
        Assert.DoesNotContain(SyntheticInstructions.Generate(3000, 2, keys), s => keys.Contains(SyntheticInstructions.Key(s.Record)));
    }
}
