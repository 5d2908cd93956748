using System.Text.RegularExpressions;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Reads the wire form <c>{"hash": …, "policy": …}</c>. JSON is YAML, so the same tree reader (with its limits and
/// positions) and the same schema readers validate it; only the input-file lookup is skipped, and
/// <c>default: allow</c> is accepted because the client already decided to send it.
/// </summary>
internal static partial class CompiledPayloadReader
{
    private static readonly PolicyCompileOptions PayloadOptions = new() { AllowDefaultAllow = true, RepositoryFiles = null };

    public static CompiledPolicy? Read(string json, DiagnosticBag diagnostics)
    {
        const string file = CompiledPolicy.CompiledSourceName;
        if (!PolicySourceText.IsWithinLimit(json, file, diagnostics))
        {
            return null;
        }

        var root = YamlTreeReader.Read(json, file, diagnostics);
        if (root is null)
        {
            return null;
        }

        var reader = new SchemaReader(diagnostics);
        var path = KeyPath.Root;
        var envelope = reader.Mapping(root, path, "{\"hash\": \"<sha256 hex>\", \"policy\": {…}}");
        if (envelope is null)
        {
            return null;
        }

        var keys = reader.Keys(envelope, path, "hash", "policy");
        string? hash = null;
        if (keys.TryGetValue("hash", out var hashEntry))
        {
            hash = reader.String(hashEntry.Value, path.Key("hash"), "64 lowercase hex digits");
            if (hash is not null && !HashPattern().IsMatch(hash))
            {
                reader.Error(PolicyErrorKind.InvalidValue, hashEntry.Value, path.Key("hash"), "the hash is not a SHA-256 hex string", "64 lowercase hex digits");
                hash = null;
            }
        }
        else
        {
            reader.Missing(envelope, path, "hash", "the policy hash");
        }

        if (!keys.TryGetValue("policy", out var policyEntry))
        {
            reader.Missing(envelope, path, "policy", "the canonical policy document");
            return null;
        }

        var policy = PolicyDocumentReader.Read(policyEntry.Value, reader, PayloadOptions, path.Key("policy"));
        if (policy is null || hash is null)
        {
            return null;
        }

        if (policy.Hash != hash)
        {
            reader.Error(PolicyErrorKind.HashMismatch, hashEntry!.Value, path.Key("hash"),
                $"the payload's content hashes to {policy.Hash}; it was altered after compilation or by another version",
                "the hash of the policy content");
            return null;
        }

        return policy;
    }

    [GeneratedRegex("^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex HashPattern();
}
