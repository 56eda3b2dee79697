#!/usr/bin/perl
# tests/e2e/fcgi_client.pl - a FastCGI client for the tests, speaking to
# score.fcgi directly (no web server in between), so that a test controls
# exactly which records are sent and when.
#
#   perl tests/e2e/fcgi_client.pl [options] HOST:PORT|SOCKET_PATH
#     -p NAME=VALUE  a parameter (repeat); REQUEST_METHOD defaults to GET
#     -b FILE        the body; CONTENT_LENGTH is its size unless -p gives one
#     -s BYTES       send only the body's first BYTES (the rest: see -t)
#     -t SECONDS     then send the rest one byte every SECONDS (in one
#                    record of at most 65535 bytes)
#     -c             go on sending after the answer, as a proxy still
#                    forwarding an upload does
#     -k             FCGI_KEEP_CONN, and hold the connection open after the
#                    answer (until -w runs out or the server closes it)
#     -w SECONDS     give up after SECONDS (default 30)
#
# Prints the response (CGI headers, blank line, body) on stdout and then
# "elapsed SECONDS" (from the first byte sent to the END_REQUEST record) on
# stderr, as soon as the END_REQUEST record is in.  Exit 0 with an END_REQUEST, 2 when -w ran out first, 3 when the
# server closed the connection first.
use strict;
use warnings;
use Getopt::Long qw(:config bundling no_ignore_case);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use Time::HiRes qw(time);

my (@params, $body_file, $some, $trickle, $go_on, $keep);
my $wait = 30;
GetOptions('p=s' => \@params, 'b=s' => \$body_file, 's=i' => \$some, 't=f' => \$trickle, 'c' => \$go_on,
	   'k' => \$keep, 'w=f' => \$wait) && @ARGV == 1
	or die "usage: fcgi_client.pl [-p N=V]... [-b FILE] [-s N] [-t S] [-c] [-k] [-w S] ADDR\n";
$SIG{PIPE} = 'IGNORE';

my $body = '';
if (defined $body_file) {
	open my $f, '<', $body_file or die "$body_file: $!\n";
	binmode $f;
	local $/;
	$body = <$f>;
}
my %p = map { /^([^=]+)=(.*)$/s ? ($1, $2) : die "-p $_: expected NAME=VALUE\n" } @params;
$p{REQUEST_METHOD} //= 'GET';
$p{CONTENT_LENGTH} //= length $body if defined $body_file;

sub record {
	my ($type, $content) = @_;
	my $pad = (8 - length($content) % 8) % 8;
	return pack('CCnnCC', 1, $type, 1, length $content, $pad, 0) . $content . ("\0" x $pad);
}
sub len { my $n = length $_[0]; return $n < 128 ? pack('C', $n) : pack('N', $n | 0x80000000); }
sub stdin_records {
	my ($s) = @_;
	my $out = '';
	for (my $i = 0; $i < length $s; $i += 65528) { $out .= record(5, substr($s, $i, 65528)); }
	return $out;
}

my $addr = $ARGV[0];
my $sock = $addr =~ m{^[^/]+:\d+$} ? IO::Socket::INET->new(PeerAddr => $addr) : IO::Socket::UNIX->new(Peer => $addr);
die "connect $addr: $!\n" unless $sock;
binmode $sock;

my $params = join '', map { len($_) . len($p{$_}) . $_ . $p{$_} } sort keys %p;
my $out = record(1, pack('nCx5', 1, $keep ? 1 : 0)) . record(4, $params) . record(4, '');
my (@drip, $complete);
if (defined $trickle) {
	# Then one record whose bytes come one at a time: its header now, a byte per tick.
	my $first = substr $body, 0, $some // 0;
	my $rest = substr substr($body, length $first), 0, 65535;
	$out .= stdin_records($first);
	$out .= pack('CCnnCC', 1, 5, 1, length $rest, 0, 0) if length $rest;
	@drip = split //, $rest;
	$complete = length($first) + length($rest) == length $body;
} elsif (defined $some) {
	$out .= stdin_records(substr($body, 0, $some));
} else {
	$out .= stdin_records($body) . record(5, '');
}

my $t0 = time;
my $give_up = $t0 + $wait;
my $next_drip = $t0 + ($trickle // 0);
my ($in, $stdout, $ended, $closed) = ('', '', 0, 0);
my $sel = IO::Select->new($sock);
my $reading = $sel;
# With -c, neither the answer nor the server's end of the connection stops
# the sending: only a failed write (the server closed it) does.
while ((!$closed || ($go_on && (length $out || @drip))) &&
       (!$ended || $keep || ($go_on && (length $out || @drip)))) {
	my $now = time;
	last if $now >= $give_up;
	if (!length $out && @drip && $now >= $next_drip) {
		$out = shift @drip;
		$out .= record(5, '') if !@drip && $complete;
		$next_drip += $trickle;
	}
	my $tick = $give_up - $now;
	$tick = $next_drip - $now if !length $out && @drip && $next_drip - $now < $tick;
	$tick = 0 if $tick < 0;
	my ($r, $w) = IO::Select->select($reading, length $out ? $sel : undef, undef, $tick);
	if ($w && @$w) {
		my $n = syswrite $sock, $out, 65536;
		if (defined $n) { substr($out, 0, $n) = ''; } else { $out = ''; @drip = (); }   # the server stopped reading
	}
	if ($r && @$r) {
		my $n = sysread $sock, $in, 65536, length $in;
		if (!$n) {
			$closed = 1;
			$reading = undef;
			next;
		}
		while (length $in >= 8) {
			my ($v, $type, $id, $clen, $pad) = unpack 'CCnnC', $in;
			last if length $in < 8 + $clen + $pad;
			my $content = substr $in, 8, $clen;
			substr($in, 0, 8 + $clen + $pad) = '';
			$stdout .= $content if $type == 6;
			if ($type == 3 && !$ended) {
				$ended = 1;
				$| = 1;
				print $stdout;
				printf STDERR "elapsed %.3f\n", time - $t0;
			}
		}
	}
}
print $stdout unless $ended;
exit($ended ? 0 : $closed ? 3 : 2);
