namespace SharpTransformer.Pipelines;

/// <summary>
/// An entity found by a <see cref="TokenClassificationPipeline"/>, as Hugging Face's <c>aggregation_strategy="simple"</c> gives
/// it: <c>entity_group</c>, <c>score</c>, <c>word</c>, <c>start</c>, <c>end</c>.
/// </summary>
/// <param name="EntityGroup">The entity type: the tag without its <c>B-</c>/<c>I-</c> prefix (PER, ORG, ...).</param>
/// <param name="Score">The mean probability of the entity's tokens' tags.</param>
/// <param name="Word">The entity's text: the input's characters from <paramref name="Start"/> to <paramref name="End"/>.</param>
/// <param name="Start">The index of its first character in the input.</param>
/// <param name="End">The index just past its last character.</param>
public sealed record TaggedEntity(string EntityGroup, float Score, string Word, int Start, int End);
