#!/usr/bin/perl
#
# smap.pl - socketmap client for test/faults and test/tsan
#
#	smap.pl HOST PORT COUNT MAP:KEY=PREFIX...
#
# Sends COUNT netstring requests "MAP KEY" over one persistent
# connection, cycling through the arguments, and checks that each answer
# starts with PREFIX ("OK", "NOTFOUND", "TEMP" ...).  A closed connection
# is reopened once per request (as Postfix does).  Prints "answers=N
# wrong=N" and exits 0 when every answer matched, 1 otherwise.

use strict;
use warnings;
use IO::Socket::INET;

my ($host, $port, $count, @q) = @ARGV;
die "usage: smap.pl HOST PORT COUNT MAP:KEY=PREFIX...\n" unless @q;
my @req = map { /^([^:]+):(.*)=(.*)$/ or die "bad $_\n"; ["$1 $2", $3] } @q;

my $s;
sub conn {
	$s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
	    Proto => 'tcp', Timeout => 30) or die "connect: $!\n";
}

sub ask {
	my ($q) = @_;
	print $s length($q) . ":$q,";
	my ($len, $c) = ('', '');
	while (1) {
		return undef unless defined sysread($s, $c, 1) && length $c;
		last if $c eq ':';
		return undef unless $c =~ /\d/ && length($len) < 6;
		$len .= $c;
	}
	my $data = '';
	while (length($data) < $len + 1) {
		my $n = sysread($s, $data, $len + 1 - length($data),
		    length($data));
		return undef unless $n;
	}
	return undef unless substr($data, -1) eq ',';
	return substr($data, 0, $len);
}

$SIG{PIPE} = 'IGNORE';
conn();
$s->autoflush(1);
my ($answers, $wrong) = (0, 0);
for my $i (0 .. $count - 1) {
	my ($q, $want) = @{$req[$i % @req]};
	my $a = ask($q);
	if (!defined $a) {
		conn();
		$s->autoflush(1);
		$a = ask($q);
	}
	$answers++;
	if (!defined $a || substr($a, 0, length $want) ne $want) {
		$wrong++;
		print STDERR "wrong answer to \"$q\": " .
		    (defined $a ? "\"$a\"" : "(none)") . ", want $want\n"
		    if $wrong <= 10;
	}
}
print "answers=$answers wrong=$wrong\n";
exit($wrong ? 1 : 0);
