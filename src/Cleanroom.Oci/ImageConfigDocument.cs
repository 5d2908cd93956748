using System.Text.Json;
using Cleanroom.Escaping;

namespace Cleanroom.Oci;

/// <summary>Parses and bounds an image config blob.</summary>
public static class ImageConfigDocument
{
    /// <summary>Configs larger than this are refused; real ones are a few KiB, with history tens of KiB.</summary>
    public const int MaxBytes = 8 * 1024 * 1024;

    public static ImageConfigFile Parse(byte[] bytes)
    {
        if (bytes.Length > MaxBytes)
        {
            throw new FormatException($"the image config is {bytes.Length} bytes; the limit is {MaxBytes}");
        }

        ImageConfigFile config;
        try
        {
            config = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.ImageConfigFile) ?? throw new FormatException("the image config is JSON null");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the image config is not valid: {UntrustedText.Escape(ex.Message)}", ex);
        }

        // The platform is stored, listed and quoted in errors: it must be a platform, not arbitrary text.
        OciGrammar.RequirePlatform(config.Os, config.Architecture, config.Variant, "the image config");
        return config;
    }
}
