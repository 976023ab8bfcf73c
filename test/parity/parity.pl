#!/usr/bin/perl
#
# parity.pl - one rule set in every mode: what Postfix answers each
# recipient, compared with "milter-relay query" address by address
#
#	parity.pl query MILTER_RELAY CONF LIST SRV IP OUT
#		"milter-relay query --verify" for every address of LIST
#		(test/relay/corpus.txt's format; its classes are not
#		read), as the untrusted client 127.0.0.2 and the trusted
#		127.0.0.1; writes "ID CLIENT CLASS" lines to OUT.
#	parity.pl smtp MODE HOST PORT LIST SRV IP QUERIES
#		one SMTP session (SMTPUTF8 for 8-bit forms) from each
#		client to HOST:PORT, MAIL, RCPT and RSET for every address,
#		and the class of every RCPT reply (or of MAIL's, when MAIL
#		is refused) compared with QUERIES.  MODE is milter, maps,
#		static or sendmail.
#
# Classes, as a client sees them: accept (2xx; query: accept or
# continue), reject (5xx; query's 501 is "syntax", a reject too),
# tempfail (4xx).  A difference fails, unless one of these reasons, each
# printed by name with its count, explains it:
#
#	own		the domain is one Postfix delivers itself (its host
#			name, localhost, its address literals, the virtual
#			mailbox domain box.test; an address without domain,
#			which Postfix gives its own): Postfix's local or
#			virtual delivery answers, not the rules (the milter
#			leaves mailer local to it, policy.local_mailers);
#			test/relay checks that nothing relays through them
#	mta-syntax	the MTA refuses the form itself (Postfix 501 5.1.3,
#			e.g. a dotted quad without brackets; Sendmail 553
#			5.1.0, e.g. a local part of 256 octets): stricter
#			than the rules, before they are asked
#	no-smtputf8	the MTA refuses an SMTPUTF8 transaction (Debian's
#			Sendmail 8.17 is built without EAI): every 8-bit
#			form is refused, stricter than the rules
#	static-ascii	static mode, a domain with an 8-bit octet:
#			main-static.cf refuses every such domain (the tables
#			hold A-labels); the answer must be a reject
#	parser		maps-only and static mode, a form query finds
#			malformed (501): Postfix's own parser is lenient and
#			decides by the domain it finds; test/fastpath
#			follows every such form it takes into the sinks
#	source-route	maps-only and static mode, a source route
#			(<@a:u@d>): Postfix drops it (RFC 5321 4.1.1.3) and
#			decides for u@d alone; test/fastpath follows such
#			mail into the sinks
#
# Lines with a NUL or LF cannot be sent as one SMTP command and are
# skipped in both.  Exit 0 when every difference is explained, 1
# otherwise (each printed), 2 on usage errors.

use strict;
use warnings;
use FindBin;

require "$FindBin::Bin/../relay/corpus.pl";

my $fail = 0;
my @clients = (['127.0.0.2', 'untrusted'], ['127.0.0.1', 'trusted']);

sub p_usage {
	print STDERR "usage: parity.pl query|smtp ...\n";
	exit 2;
}

# The forms of LIST that one SMTP command line can carry.
sub p_forms {
	my ($list, $srv, $ip) = @_;
	return grep { $_->{raw} !~ /[\0\n]/ } corpus_read($list, $srv, $ip);
}

# The class of a query answer line.
sub p_class {
	my ($out) = @_;
	return '?' unless $out =~ /^\S*: (\S+)(?: reply="(\d)(\d\d))?/m;
	return 'accept' if $1 eq 'accept' || $1 eq 'continue';
	return 'tempfail' if $1 eq 'tempfail';
	return 'syntax' if $1 eq 'reject' && defined $2 && "$2$3" eq '501';
	return 'reject' if $1 eq 'reject';
	return '?';
}

sub p_query {
	my ($bin, $conf, $list, $srv, $ip, $outf) = @_;
	open(my $out, '>', $outf) or die "$outf: $!\n";
	my $n = 0;
	for my $e (p_forms($list, $srv, $ip)) {
		for my $c (@clients) {
			my ($st, $text) = main::query_one($bin, $conf, $c->[0],
			    $e->{raw}, '--verify');
			my $class = p_class($text);
			if ($class eq '?') {
				main::bad($e, "query $c->[1]: no class (exit " .
				    "$st): " . main::printable($text));
				$fail = 1;
			}
			print $out "$e->{id} $c->[1] $class\n";
			$n++;
		}
	}
	close($out);
	print "query: $n answers\n";
}

# The domain of a form as Postfix takes it: after the last '@', lower
# case, without brackets or a trailing dot.
sub domain_of {
	my ($raw) = @_;
	my $a = $raw;
	$a =~ s/^<|>$//g;
	my $d = $a =~ /\@([^\@]*)$/ ? lc $1 : '';
	$d =~ s/\.$//;
	return $d;
}

# Why MODE may answer CLASS (reply R) where query said Q, or undef.
sub explain {
	my ($mode, $e, $q, $class, $r, $locals) = @_;
	my $d = domain_of($e->{raw});
	return 'own' if $locals->{$d} || $d eq 'box.test' ||
	    $e->{raw} !~ /\@/;
	return 'mta-syntax' if $class eq 'reject' &&
	    $r =~ /^(501 5\.1\.3|553 5\.1\.0) /;
	return 'no-smtputf8' if $class eq 'reject' &&
	    $r =~ /^555 5\.5\.4 SMTPUTF8/;
	if ($mode eq 'static' && $d =~ /[\x80-\xff]/) {
		return $class eq 'reject' ? 'static-ascii' : undef;
	}
	return 'parser' if $mode ne 'milter' && $q eq 'syntax';
	return 'source-route' if $mode ne 'milter' &&
	    $e->{raw} =~ /^<\@[^:<>]*:[^\@:]+\@[^\@]+>$/;
	return undef;
}

sub p_smtp {
	my ($mode, $host, $port, $list, $srv, $ip, $qf) = @_;
	my %q;
	open(my $in, '<', $qf) or die "$qf: $!\n";
	while (<$in>) {
		my ($id, $client, $class) = split;
		$q{"$id $client"} = $class;
	}
	close($in);
	my %locals = map { $_ => 1 } (lc $srv, 'localhost', "[$ip]",
	    '[ipv6:::1]');
	# test/sendmail/test.mc's own names (class w)
	$locals{$_} = 1 for $mode eq 'sendmail' ?
	    ('own.example', 'mr-sendmail-test.invalid') : ();
	my (%why, $n, $same);
	my @forms = p_forms($list, $srv, $ip);
	for my $c (@clients) {
		my $s;
		my $per = 0;
		for my $e (@forms) {
			if (!$s || $per++ >= 40) {
				main::smtp_cmd($s, 'QUIT') if $s;
				$s = main::smtp_open($host, $port, $c->[0]);
				$per = 1;
			}
			my ($code, $r) = main::smtp_cmd($s,
			    'MAIL FROM:<sender@client.test>' .
			    ($e->{raw} =~ /[\x80-\xff]/ ? ' SMTPUTF8' : ''));
			# an MTA without SMTPUTF8 refuses the transaction
			($code, $r) = main::smtp_cmd($s, "RCPT TO:$e->{raw}")
			    if $code == 250;
			my $class = $code =~ /^2/ ? 'accept' :
			    $code =~ /^4/ ? 'tempfail' :
			    $code =~ /^5/ ? 'reject' : "none ($code)";
			my $want = $q{"$e->{id} $c->[1]"} // '?';
			$n++;
			(my $w = $want) =~ s/^syntax$/reject/;
			if ($class eq $w) {
				$same++;
			} elsif (defined(my $why = explain($mode, $e, $want,
			    $class, $r, \%locals))) {
				$why{$why}++;
			} else {
				$r =~ s/\s+$//;
				main::bad($e, "$mode $c->[1]: query says " .
				    "$want, Postfix " . main::printable($r));
				$fail = 1;
			}
			($code) = main::smtp_cmd($s, 'RSET');
			# Postfix and Sendmail hang up after some input
			$s = undef if $code != 250;
		}
		main::smtp_cmd($s, 'QUIT') if $s;
	}
	print "$mode: $n RCPTs, $same as query";
	print ", $why{$_} $_" for sort keys %why;
	print "\n";
}

my $what = shift @ARGV // p_usage();
if ($what eq 'query') {
	p_usage() unless @ARGV == 6;
	p_query(@ARGV);
} elsif ($what eq 'smtp') {
	p_usage() unless @ARGV == 7;
	p_smtp(@ARGV);
} else {
	p_usage();
}
exit($fail ? 1 : 0);
