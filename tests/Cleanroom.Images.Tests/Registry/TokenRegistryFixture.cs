using Cleanroom.Images.Registry;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>A docker-registry behind token auth (its own token service), with one image pushed through it.</summary>
public sealed class TokenRegistryFixture : IAsyncLifetime
{
    public const string Username = "ci-bot";
    public const string Password = "s3cret, with \"quotes\" and commas";

    public TemporaryDirectory Scratch { get; } = new("cleanroom-token-tests");

    public RegistryServer Registry { get; private set; } = null!;

    public TokenServer Tokens => Registry.TokenServer!;

    public BuiltImage Image { get; private set; } = null!;

    public ImageReference ImageRef => ImageReference.Parse(Registry.Reference("private/app:v1"));

    public RegistryCredentialStore GoodCredentials => RegistryCredentialStore.Empty.With(Registry.Host, new RegistryCredential(Username, Password));

    public async Task InitializeAsync()
    {
        Registry = await RegistryServer.StartAsync(RegistryAuth.Token(Username, Password));
        Image = new OciImageBuilder(Scratch.Combine("blobs"))
            .WithCmd("/bin/secret")
            .AddLayer(l => l.File("secret.txt", "only for ci-bot\n").BigFile("payload.bin", 128 * 1024, seed: 9))
            .Build();
        using var pusher = RegistryPusher.For(Registry);
        await pusher.PushImageAsync("private/app", "v1", Image);
    }

    public async Task DisposeAsync()
    {
        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }

        Scratch.Dispose();
    }
}
