namespace SharpTransformer.Alignment;

/// <summary>The five task types of <see cref="SyntheticInstructions"/>, each with one checkable answer.</summary>
public enum SyntheticTaskKind
{
    /// <summary>Reverse a word of 3 to 8 letters.</summary>
    Reverse,
    /// <summary>Upper-case a phrase of two or three words.</summary>
    Uppercase,
    /// <summary>Add two numbers below 100.</summary>
    Add,
    /// <summary>Sort 3 to 6 letters alphabetically.</summary>
    Sort,
    /// <summary>Repeat a word 2 to 4 times, separated by spaces.</summary>
    Repeat,
}
