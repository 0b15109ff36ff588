# Puppet example: one Vac space pushed to every factory. Validate with
#   puppet parser validate etc/puppet/vac.pp
# (CI does), and try it on a scratch root with `puppet apply --noop`.
#
# vacd reads /etc/vac.d/*.conf (in name order) before /etc/vac.conf and applies a change
# within seconds; a file with errors never replaces the last good configuration. So Puppet
# only has to write the files: the reload below is for promptness, and it happens only after
# `vac config check` has accepted the result, so a bad push shows up as a failed Puppet run
# (and as CRITICAL from check-vacd) while the factory goes on with what it had.
#
# Usage, in a node definition or Hiera:
#   class { 'vac':
#     space        => 'vac01.example.ac.uk',
#     factories    => ['wn01.example.ac.uk', 'wn02.example.ac.uk'],
#     settings     => { 'hs06_per_processor' => 10 },
#     machinetypes => {
#       'lhcb'  => { 'machine_model' => 'cernvm3', 'root_image' => 'cernvm4.iso',
#                    'user_data' => 'lhcb.user_data', 'backoff_seconds' => 600 },
#       'atlas' => { 'machine_model' => 'cernvm3', 'root_image' => 'cernvm4.iso',
#                    'user_data' => 'atlas.user_data' },
#     },
#     target_shares => { 'lhcb' => 3, 'atlas' => 2 },
#   }
#
# Long-term shares (docs/accounting.md): give machinetypes a long_term_share, run
# `vac shares --plan 90d --archive ... --write FILE` on one host that sees every factory's
# apel-archive, and pass the file's content as long_term_shares (say, with Hiera's file()):
# it becomes /etc/vac.d/99-long-term-shares.conf on every factory. Without it, that file is
# left alone, so a plan a factory writes there from cron survives Puppet's purge.
class vac (
  String[1] $space,
  Array[String[1], 1] $factories,
  Hash[String[1], Scalar] $settings = {},
  Hash[Pattern[/\A[a-z0-9-]+\z/], Hash[String[1], Scalar]] $machinetypes = {},
  Hash[String[1], Integer[0]] $target_shares = {},
  Optional[String[1]] $long_term_shares = undef,
  String[1] $package_ensure = 'installed',
  Boolean $service_enable = true,
  # For a trial on a scratch root (vac --root DIR): where the files go, how they are checked,
  # and whether the package and the service are Puppet's to manage.
  Pattern[/\A\//] $conf_dir = '/etc/vac.d',
  String[1] $check_command = '/usr/bin/vac config check',
  Boolean $manage_package = true,
  Boolean $manage_service = true,
) {
  if $manage_package {
    package { 'vac':
      ensure => $package_ensure,
      before => File[$conf_dir],
    }
  }

  # Every file in /etc/vac.d comes from here: a machinetype removed from Hiera goes too.
  file { $conf_dir:
    ensure  => directory,
    owner   => 'root',
    group   => 'root',
    mode    => '0755',
    recurse => true,
    purge   => true,
    ignore  => '99-long-term-shares.conf',
  }

  if $long_term_shares {
    file { "${conf_dir}/99-long-term-shares.conf":
      ensure  => file,
      owner   => 'root',
      group   => 'root',
      mode    => '0644',
      content => $long_term_shares,
      notify  => Exec['vac config check'],
    }
  }

  $settings_lines = $settings.map |$key, $value| { "${key} = ${value}\n" }.join('')
  file { "${conf_dir}/10-space.conf":
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "# Managed by Puppet (class vac).\n[settings]\nvac_space = ${space}\nfactories = ${factories.join(' ')}\n${settings_lines}",
    notify  => Exec['vac config check'],
  }

  $machinetypes.each |$name, $options| {
    $lines = $options.map |$key, $value| { "${key} = ${value}\n" }.join('')
    file { "${conf_dir}/50-machinetype-${name}.conf":
      ensure  => file,
      owner   => 'root',
      group   => 'root',
      mode    => '0644',
      content => "# Managed by Puppet (class vac).\n[machinetype ${name}]\n${lines}",
      notify  => Exec['vac config check'],
    }
  }

  # Shares change most often (a VO's pledge, a drain): a [targetshares] section of their own,
  # for machinetypes whose options above set no target_share (which would win, as in Vac).
  $share_lines = $target_shares.map |$name, $share| { "${name} = ${share}\n" }.join('')
  file { "${conf_dir}/90-targetshares.conf":
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "# Managed by Puppet (class vac).\n[targetshares]\n${share_lines}",
    notify  => Exec['vac config check'],
  }

  exec { 'vac config check':
    command     => $check_command,
    refreshonly => true,
    logoutput   => true,
  }

  if $manage_service {
    # Reload, never restart, on a change: vacd re-reads its files on SIGHUP. (A restart would
    # not stop the machines either, but would pause the factory for a start-up.)
    service { 'vacd':
      ensure    => running,
      enable    => $service_enable,
      restart   => '/usr/bin/systemctl reload vacd',
      subscribe => Exec['vac config check'],
    }
    if $manage_package {
      Package['vac'] -> Service['vacd']
    }
  }
}
