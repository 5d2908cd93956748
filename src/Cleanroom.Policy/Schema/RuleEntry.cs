using System.Collections.Immutable;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>One network rule as written, with where it was written (for merge warnings and conflict errors).</summary>
internal sealed record RuleEntry(HostPattern Host, ImmutableArray<int> Ports, YamlNode Node, KeyPath Path);
