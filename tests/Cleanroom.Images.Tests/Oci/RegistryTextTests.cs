using System.Text.Json;
using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Oci;

/// <summary>
/// Media types and platform fields come from the registry and end up in messages, logs and the store. One that is
/// not of its grammar (a terminal escape, a newline forging a line) makes the whole document refused, and the
/// refusal does not repeat the hostile text.
/// </summary>
public sealed class RegistryTextTests
{
    private static readonly string A = "sha256:" + new string('a', 64);

    private static readonly string[] RealPlatformWords = ["linux", "windows", "amd64", "arm64", "ppc64le", "s390x", "386", "v8", "unknown", "riscv64"];

    public static TheoryData<string> HostileWords() => ["\u001b[2J", "gzip\nlevel: error", "amd64\n", "x\u202eevil", new string('a', 200)];

    [Theory]
    [MemberData(nameof(HostileWords))]
    public void A_layer_media_type_off_the_grammar_refuses_the_manifest(string word)
    {
        var bytes = Manifest(layerMediaType: MediaTypes.OciLayerGzip + word);

        var error = Assert.Throws<FormatException>(() => ManifestDocument.Parse(bytes, MediaTypes.OciManifest));

        AssertHarmless(error.Message, word);
    }

    [Theory]
    [MemberData(nameof(HostileWords))]
    public void A_config_or_document_media_type_off_the_grammar_refuses_the_manifest(string word)
    {
        Assert.Throws<FormatException>(() => ManifestDocument.Parse(Manifest(configMediaType: "application/" + word), null));
        var error = Assert.Throws<FormatException>(() => ManifestDocument.Parse(Manifest(documentMediaType: MediaTypes.OciManifest + word), null));

        AssertHarmless(error.Message, word);
    }

    [Theory]
    [MemberData(nameof(HostileWords))]
    public void An_index_entry_platform_off_the_grammar_refuses_the_index(string word)
    {
        var entry = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = A, Size = 10, Platform = new DescriptorPlatform { Os = "linux", Architecture = "arm64", Variant = "v8" + word } };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = [entry] }, OciJsonContext.Default.ImageIndex);

        var error = Assert.Throws<FormatException>(() => ManifestDocument.Parse(bytes, null));

        Assert.Contains("variant", error.Message, StringComparison.Ordinal);
        AssertHarmless(error.Message, word);
    }

    [Theory]
    [MemberData(nameof(HostileWords))]
    public void An_image_config_platform_off_the_grammar_is_refused(string word)
    {
        var config = JsonSerializer.SerializeToUtf8Bytes(new ImageConfigFile { Os = "linux", Architecture = "amd64" + word }, OciJsonContext.Default.ImageConfigFile);

        var error = Assert.Throws<FormatException>(() => ImageConfigDocument.Parse(config));

        Assert.Contains("architecture", error.Message, StringComparison.Ordinal);
        AssertHarmless(error.Message, word);
    }

    [Fact]
    public void Real_media_types_and_platforms_pass()
    {
        Assert.All(MediaTypes.AcceptedManifests.Append(MediaTypes.OciLayerZstd).Append("application/vnd.in-toto+json"), m => Assert.True(OciGrammar.IsMediaType(m)));
        Assert.All(RealPlatformWords, w => Assert.True(OciGrammar.IsPlatformField(w)));
        Assert.NotNull(ImageConfigDocument.Parse("""{"os":"linux","architecture":"arm64","variant":"v8"}"""u8.ToArray()));
    }

    [Fact]
    public void A_json_error_quoting_a_hostile_key_is_escaped()
    {
        var bytes = """{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:aa","size":1,"annotations":{"\u001b[2J\nforged: yes":1}},"layers":[]}"""u8.ToArray();

        var error = Assert.Throws<FormatException>(() => ManifestDocument.Parse(bytes, MediaTypes.OciManifest));

        Assert.DoesNotContain(error.Message, char.IsControl);
    }

    private static void AssertHarmless(string message, string word)
    {
        Assert.DoesNotContain(message, char.IsControl);
        Assert.DoesNotContain('\u202e', message);
        Assert.DoesNotContain(word.Trim(), message, StringComparison.Ordinal);
    }

    private static byte[] Manifest(string layerMediaType = MediaTypes.OciLayerGzip, string configMediaType = MediaTypes.OciConfig, string documentMediaType = MediaTypes.OciManifest) =>
        JsonSerializer.SerializeToUtf8Bytes(new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = documentMediaType,
            Config = new Descriptor { MediaType = configMediaType, Digest = A, Size = 2 },
            Layers = [new Descriptor { MediaType = layerMediaType, Digest = A, Size = 10 }],
        }, OciJsonContext.Default.ImageManifest);
}
