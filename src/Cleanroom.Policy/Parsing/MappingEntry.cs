namespace Cleanroom.Policy.Parsing;

/// <summary>One <c>key: value</c> pair of a mapping.</summary>
internal sealed record MappingEntry(ScalarNode Key, YamlNode Value);
