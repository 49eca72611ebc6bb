using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models;

namespace SharpTransformer.Tests.Fixtures;

/// <summary>A decoder built from a fixture folder, with its checkpoint bindings.</summary>
/// <param name="Model">The model, weights loaded.</param>
/// <param name="Bindings">Its Hugging Face tensor names (without optional prefixes) and where they sit.</param>
/// <param name="TiedHead">The output head is the token embedding (no <c>lm_head.weight</c> binding of its own).</param>
/// <param name="Embedding">The binding name of the token embedding, which a tied head's gradient is part of.</param>
internal sealed record FixtureDecoder(CausalLanguageModel Model, IReadOnlyList<HfBinding> Bindings, bool TiedHead, string Embedding);
