using System.Security.Cryptography;
using System.Text;

namespace Cleanroom.Policy.Canonical;

/// <summary>The policy hash: lowercase hex SHA-256 of the UTF-8 bytes of the canonical document.</summary>
internal static class PolicyHasher
{
    public static string Hash(string canonicalJson) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJson)));
}
