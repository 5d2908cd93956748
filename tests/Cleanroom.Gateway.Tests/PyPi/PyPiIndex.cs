using System.Security.Cryptography;
using System.Text;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.PyPi;

/// <summary>
/// A static PEP 503 / PEP 691 index for one project on loopback, standing in for pypi.org (pages) and
/// files.pythonhosted.org (files, linked absolutely the way PyPI does, with <c>#sha256=</c>).
/// </summary>
internal sealed class PyPiIndex : IAsyncDisposable
{
    public const string IndexHost = "pypi.org";
    public const string FilesHost = "files.pythonhosted.org";
    public const string Project = "tiny-pkg";
    public const string Version = "1.0";

    /// <summary>
    /// PyPI's shape (absolute links to the file host, HTML and JSON), or with <paramref name="plainRelative"/> a plain
    /// HTML-only index whose link is relative and whose file sits beside the project page on the index host.
    /// </summary>
    public PyPiIndex(bool plainRelative = false)
    {
        (FileName, Wheel) = TinyWheel.Build(Project, Version);
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(Wheel));
        if (plainRelative)
        {
            FilePath = $"/simple/{Project}/{FileName}";
            Server.Add($"/simple/{Project}/", "text/html", Encoding.UTF8.GetBytes(
                $"<html><body><a href=\"{FileName}#sha256={Sha256}\">{FileName}</a></body></html>\n"));
            Server.Add(FilePath, "application/octet-stream", Wheel);
            return;
        }

        FilePath = $"/packages/ab/cd/{FileName}";
        var url = $"https://{FilesHost}{FilePath}";
        Server.Add("/simple/", "text/html", Encoding.UTF8.GetBytes($"<!DOCTYPE html><html><body><a href=\"/simple/{Project}/\">{Project}</a></body></html>\n"));
        Server.Add($"/simple/{Project}/", "text/html; charset=utf-8", Encoding.UTF8.GetBytes(
            $"<!DOCTYPE html>\n<html><body>\n<a href=\"{url}#sha256={Sha256}\" data-requires-python=\"&gt;=3.7\">{FileName}</a><br/>\n</body></html>\n"));
        Server.AddJson($"/simple/{Project}/", Encoding.UTF8.GetBytes(
            $$"""{"meta": {"api-version": "1.0"}, "name": "{{Project}}", "files": [{"filename": "{{FileName}}", "url": "{{url}}", "hashes": {"sha256": "{{Sha256}}"}, "requires-python": ">=3.7"}]}"""));
        Server.Add(FilePath, "application/octet-stream", Wheel);
    }

    public PackageIndexServer Server { get; } = new();

    public string FileName { get; }

    public string FilePath { get; }

    public byte[] Wheel { get; }

    public string Sha256 { get; }

    /// <summary>Both hosts answered by the one loopback server.</summary>
    public IReadOnlyDictionary<string, Uri> Upstreams => new Dictionary<string, Uri>
    {
        [IndexHost] = Server.BaseUri,
        [FilesHost] = Server.BaseUri,
    };

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
