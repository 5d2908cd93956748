using System.Net;
using Cleanroom.Escaping;
using Cleanroom.Network.Dns.Wire;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Dns;

/// <summary>
/// The filter's decisions for one guest message, independent of the transport it came on. A name the policy does not
/// allow is refused and audited and never leaves the host. An allowed A or AAAA question is resolved upstream, the
/// firewall is opened for the addresses, and only then is the guest answered. Other types get an empty answer, except
/// for allow-all sandboxes, whose questions of any data type are resolved the same way.
/// </summary>
internal sealed class DnsQueryHandler(
    DnsFilterOptions options,
    UpstreamResolver upstream,
    IEgressAllowance allowance,
    IEgressAudit audit,
    DnsFilterStatistics statistics,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>The longest UDP answer to a guest that did not announce an EDNS buffer (RFC 1035 §4.2.1).</summary>
    private const int ClassicUdpLimit = 512;

    /// <summary>Guest-controlled names are cut to this many characters in audit events and logs.</summary>
    private const int MaxShownNameLength = 300;

    /// <summary>Decides what to do with <paramref name="message"/> from <paramref name="client"/>, without waiting.</summary>
    public DnsDecision Decide(DnsClient client, ReadOnlySpan<byte> message, bool overTcp)
    {
        var outcome = DnsQueryParser.Parse(message, out var header, out var query);
        switch (outcome)
        {
            case DnsQueryParser.Outcome.Drop:
                statistics.CountDroppedMalformed();
                return DnsDecision.Drop;
            case DnsQueryParser.Outcome.FormatError or DnsQueryParser.Outcome.NotImplemented:
                var code = outcome == DnsQueryParser.Outcome.FormatError ? DnsResponseCode.FormatError : DnsResponseCode.NotImplemented;
                return DnsDecision.Respond(DnsMessageBuilder.Response(
                    header.Id, header.RecursionDesired, code, null, [], null, ClassicUdpLimit));
        }

        var question = query!.Question;
        var name = question.Name.ToString();
        var maxLength = overTcp ? ushort.MaxValue : Math.Max(ClassicUdpLimit, Math.Min((int)(query.EdnsUdpSize ?? 0), options.MaxUdpResponseBytes));
        if (options.GatewayName is { } gateway && string.Equals(name, gateway, StringComparison.OrdinalIgnoreCase))
        {
            return DnsDecision.Respond(GatewayAnswer(client, query, maxLength));
        }

        if (!client.AllowAll && !client.Policy.MayResolve(name))
        {
            Refuse(client, name);
            return DnsDecision.Respond(Answer(query, DnsResponseCode.Refused, [], maxLength));
        }

        if (DnsRecordType.IsMeta(question.Type))
        {
            return DnsDecision.Respond(Answer(query, DnsResponseCode.NotImplemented, [], maxLength));
        }

        if (!client.AllowAll && question.Type is not (DnsRecordType.A or DnsRecordType.Aaaa))
        {
            // Allowed names resolve to addresses only: other record types could carry data (TXT) or point at names
            // the policy never allowed (MX, SRV, HTTPS), so the guest is told there is nothing (NODATA).
            return DnsDecision.Respond(Answer(query, DnsResponseCode.NoError, [], maxLength));
        }

        if (question.Type == DnsRecordType.Aaaa && !client.Ipv6)
        {
            // A sandbox without IPv6 could not use the addresses: tools would try them first and stall or fail.
            return DnsDecision.Respond(Answer(query, DnsResponseCode.NoError, [], maxLength));
        }

        return DnsDecision.Resolve(new DnsLookup(query, name.ToLowerInvariant(), maxLength));
    }

    /// <summary>
    /// Resolves an allowed query upstream and builds the guest's answer; SERVFAIL when no upstream answers usably in
    /// time or the firewall cannot be opened. Throws <see cref="OperationCanceledException"/> only when
    /// <paramref name="ct"/> (the filter stopping) is cancelled.
    /// </summary>
    public async Task<byte[]> ResolveAsync(DnsClient client, DnsLookup lookup, CancellationToken ct)
    {
        var query = lookup.Query;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.QueryTimeout);
        try
        {
            var asked = query.Question with { Name = query.Question.Name.ToLowerInvariant() };
            var response = await upstream.ResolveAsync(asked, deadline.Token);
            var records = response is null ? null : AnswerChain.Select(asked, response.Answers, options.MaxCnameChain, options.MaxAnswerRecords);
            if (response is null || records is null)
            {
                statistics.CountUpstreamFailure();
                logger.LogDebug("DNS query for {Name} from sandbox {Sandbox} failed upstream", Shown(lookup.Name), client.SandboxId);
                return Answer(query, DnsResponseCode.ServerFailure, [], lookup.MaxResponseLength);
            }

            var ttl = AnswerTtl(records);
            records = [.. records.Select(r => r.WithTtl(ttl))];
            var addresses = records
                .Where(r => r.Type is DnsRecordType.A or DnsRecordType.Aaaa)
                .Select(r => new ResolvedAddress(new IPAddress(r.Fixed), TimeSpan.FromSeconds(ttl)))
                .ToList();
            if (addresses.Count > 0 && !await TryAllowAsync(client, lookup.Name, addresses, deadline.Token))
            {
                return Answer(query, DnsResponseCode.ServerFailure, [], lookup.MaxResponseLength);
            }

            return Answer(query, response.ResponseCode, records, lookup.MaxResponseLength);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            statistics.CountUpstreamFailure();
            logger.LogDebug("DNS query for {Name} from sandbox {Sandbox} timed out", Shown(lookup.Name), client.SandboxId);
            return Answer(query, DnsResponseCode.ServerFailure, [], lookup.MaxResponseLength);
        }
    }

    /// <summary>
    /// The gateway's name, answered here for every sandbox: A with the host end of its link, AAAA with the IPv6 host
    /// end when it has IPv6, nothing for other types. The gateway enforces the policy per request, so the name is
    /// not the policy's to refuse, and it must never reach an upstream resolver.
    /// </summary>
    private byte[] GatewayAnswer(DnsClient client, DnsQuery query, int maxLength)
    {
        var question = query.Question;
        if (DnsRecordType.IsMeta(question.Type))
        {
            return Answer(query, DnsResponseCode.NotImplemented, [], maxLength);
        }

        var address = question.Type switch
        {
            DnsRecordType.A => client.GatewayAddress,
            DnsRecordType.Aaaa when client.Ipv6 => client.GatewayAddress6,
            _ => null,
        };
        if (address?.AddressFamily != (question.Type == DnsRecordType.A ? System.Net.Sockets.AddressFamily.InterNetwork : System.Net.Sockets.AddressFamily.InterNetworkV6))
        {
            address = null; // a wrong family would make a malformed record
        }

        IReadOnlyList<DnsRecord> records = address is null
            ? []
            : [new DnsRecord(question.Name, question.Type, (uint)options.GatewayTtl.TotalSeconds, address.GetAddressBytes(), null)];
        return Answer(query, DnsResponseCode.NoError, records, maxLength);
    }

    private uint AnswerTtl(IReadOnlyList<DnsRecord> records) => AnswerChain.AnswerTtl(records, options.MaxTtl);

    // The firewall must be open before the guest hears the addresses; if it cannot be opened the guest gets no
    // addresses at all (fail closed).
    private async Task<bool> TryAllowAsync(DnsClient client, string name, IReadOnlyList<ResolvedAddress> addresses, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.AllowanceTimeout);
        try
        {
            await allowance.AllowAsync(client, name, addresses, timeout.Token).WaitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Opening the firewall of sandbox {Sandbox} for {Name} failed; answering SERVFAIL", client.SandboxId, Shown(name));
            return false;
        }
    }

    private void Refuse(DnsClient client, string name)
    {
        statistics.CountRefused();
        var shown = Shown(name);
        logger.LogDebug("DNS query for {Name} from sandbox {Sandbox} refused: host_not_allowed", shown, client.SandboxId);
        audit.Denied(new EgressDenial(client.SandboxId, time.GetUtcNow(), shown, 53, "dns", ReasonCode.HostNotAllowed.ToSnakeCase()));
    }

    // A guest that sent an OPT record gets one back (RFC 6891 §7), announcing the largest UDP answer the filter sends.
    private byte[] Answer(DnsQuery query, DnsResponseCode code, IReadOnlyList<DnsRecord> records, int maxLength) =>
        DnsMessageBuilder.Response(
            query.Id, query.RecursionDesired, code, query.Question, records,
            query.EdnsUdpSize is null ? null : (ushort)options.MaxUdpResponseBytes, maxLength);

    private static string Shown(string name) => UntrustedText.Escape(name, MaxShownNameLength);
}
