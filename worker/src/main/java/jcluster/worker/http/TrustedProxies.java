package jcluster.worker.http;

import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** The sources allowed to send a PROXY protocol header: {@code --proxy-from}, CIDRs or addresses, comma-separated. */
public record TrustedProxies(List<IpSubnetFilterRule> rules, String text) {
    /** @throws IllegalArgumentException naming the part that is neither an address nor a CIDR */
    public static TrustedProxies parse(String cidrs) {
        List<IpSubnetFilterRule> rules = new ArrayList<>();
        for (String part : cidrs.split(",")) {
            String c = part.strip();
            if (c.isEmpty()) {
                continue;
            }
            String cidr = c.contains("/") ? c : c + (c.contains(":") ? "/128" : "/32");
            try {
                rules.add(new IpSubnetFilterRule(cidr, IpFilterRuleType.ACCEPT));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("'" + c + "' is not an address or a CIDR such as 10.0.0.0/8 or ::1");
            }
        }
        if (rules.isEmpty()) {
            throw new IllegalArgumentException("no address or CIDR given");
        }
        return new TrustedProxies(List.copyOf(rules), cidrs);
    }

    boolean trusts(InetSocketAddress peer) {
        for (IpSubnetFilterRule r : rules) {
            if (r.matches(peer)) {
                return true;
            }
        }
        return false;
    }
}
