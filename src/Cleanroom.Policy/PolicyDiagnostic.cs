using System.Globalization;
using System.Text;
using Cleanroom.Policy.Text;

namespace Cleanroom.Policy;

/// <summary>
/// One problem found in a policy: where it is (<see cref="Location"/> and the key path), what kind it is, what was
/// found and what was expected. Every error carries all of these so a user can fix it without reading the docs.
/// The texts may quote the file, which a repository controls: each is escaped and cut to a bounded length
/// (<see cref="DisplayText"/>) as it is set, so no consumer can print raw control characters or megabytes.
/// </summary>
/// <param name="Severity">Error or warning.</param>
/// <param name="Kind">The specific problem; its snake_case name is stable (see <see cref="Code"/>).</param>
/// <param name="Location">Where the offending node starts.</param>
/// <param name="KeyPath">The key path such as <c>sandbox.network.allow[2]</c>; empty for the document itself.</param>
/// <param name="Message">A sentence that says what is wrong.</param>
/// <param name="Found">What the file holds at that place, rendered for humans.</param>
/// <param name="Expected">What would have been accepted.</param>
public sealed record PolicyDiagnostic(
    DiagnosticSeverity Severity,
    PolicyErrorKind Kind,
    SourceLocation Location,
    string KeyPath,
    string Message,
    string Found,
    string Expected)
{
    private const int MaxTextLength = 500;
    private const int MaxMessageLength = 1000;

    /// <summary>The key path, escaped and bounded.</summary>
    public string KeyPath { get; init => field = DisplayText.Escape(value, MaxTextLength); } = DisplayText.Escape(KeyPath, MaxTextLength);

    /// <summary>The message, escaped and bounded.</summary>
    public string Message { get; init => field = DisplayText.Escape(value, MaxMessageLength); } = DisplayText.Escape(Message, MaxMessageLength);

    /// <summary>What was found, escaped and bounded.</summary>
    public string Found { get; init => field = DisplayText.Escape(value, MaxTextLength); } = DisplayText.Escape(Found, MaxTextLength);

    /// <summary>What was expected, escaped and bounded.</summary>
    public string Expected { get; init => field = DisplayText.Escape(value, MaxTextLength); } = DisplayText.Escape(Expected, MaxTextLength);

    /// <summary>The stable snake_case name of <see cref="Kind"/>, e.g. <c>unknown_key</c>.</summary>
    public string Code => Kind.ToSnakeCase();

    /// <summary>The API-level reason: <c>policy_conflict</c> for contradictions, otherwise <c>policy_invalid</c>.</summary>
    public ReasonCode Reason => Kind.ToReasonCode();

    /// <summary><c>file:line:column: error: path: message (found …; expected …)</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        // The file name is the user's path, not repository content, but it is printed, so it is escaped too.
        text.Append(DisplayText.Escape(Location.ToString(), MaxMessageLength)).Append(": ");
        text.Append(Severity == DiagnosticSeverity.Warning ? "warning: " : "error: ");

        if (KeyPath.Length > 0)
        {
            text.Append(KeyPath).Append(": ");
        }

        text.Append(Message);
        text.Append(CultureInfo.InvariantCulture, $" (found {Found}; expected {Expected})");
        return text.ToString();
    }
}
