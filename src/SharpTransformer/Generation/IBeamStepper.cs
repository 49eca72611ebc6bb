namespace SharpTransformer.Generation;

/// <summary>A model as beam search sees it: rows of sequences that grow by one token per step and can be reordered.</summary>
internal interface IBeamStepper
{
    /// <summary>Vocabulary size V.</summary>
    int VocabSize { get; }

    /// <summary>
    /// Runs the model and writes the next-token logits of each row into <paramref name="logits"/> (rows × V). The first call
    /// has no new tokens (one row per input: its prompt or decoder start token); later calls get the newest token of each row.
    /// </summary>
    void Step(ReadOnlySpan<int> newest, float[] logits);

    /// <summary>Row i becomes the old row <paramref name="rows"/>[i] (the number of rows may grow once, from inputs to beams).</summary>
    void Reorder(int[] rows);
}
