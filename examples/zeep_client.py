#!/usr/bin/python3
"""Calls a WSMailUpImport endpoint with Python zeep, over SOAP 1.1 and SOAP 1.2.

It loads the service's own WSDL, sends the Authentication SOAP header the WSDL declares,
reads the lists with GetNlLists (to find the list's GUID, as MailUp's own integrations do)
and creates a group with CreateGroup. Every operation answers one string, a
<mailupMessage> document; this script parses it and prints the ReturnCode and the lists.

Debian: apt-get install python3-zeep, then for example

    /usr/bin/python3 examples/zeep_client.py http://127.0.0.1:8080/Services/WSMailUpImport.asmx \\
        a1001 'the-ws-password' 1 --group 'Customers from zeep'

Arguments: the endpoint (with or without ?WSDL), the WS user, its password and the idList.
--soap chooses 1.1, 1.2 or both (the default); --group the name of the group to create.
The script exits with status 1 when a call answers a negative ReturnCode.
"""
import argparse
import sys
import xml.etree.ElementTree as ET

from zeep import Client

SERVICE = 'WSMailUpImport'
PORTS = {'1.1': 'WSMailUpImportSoap', '1.2': 'WSMailUpImportSoap12'}


def mailup_body(result):
    """The <mailupBody> element of a result string. The string declares windows-1252 and is pure
    ASCII, so it is parsed as bytes and the parser honours the declaration."""
    body = ET.fromstring(result.encode('ascii')).find('mailupBody')
    if body is None:
        raise ValueError('not a mailupMessage: %r' % result)
    return body


def call(service, operation, headers, **args):
    result = getattr(service, operation)(_soapheaders=headers, **args)
    body = mailup_body(result)
    return int(body.findtext('ReturnCode')), body, result


def run(client, version, user, password, id_list, group_name):
    service = client.bind(SERVICE, PORTS[version])
    authentication = client.get_element('{http://ws.mailupnet.it/}Authentication')
    headers = [authentication(User=user, Password=password, encType='UTF-8')]

    code, body, _ = call(service, 'GetNlLists', headers)
    print('SOAP %s GetNlLists ReturnCode=%d' % (version, code))
    if code != 0:
        return False
    guid = None
    for lst in body.iter('List'):
        groups = ', '.join('%s=%s' % (g.get('idGroup'), g.get('groupName')) for g in lst.iter('Group'))
        print('  list %s %s %r groups: %s' % (lst.get('idList'), lst.get('listGUID'), lst.get('listName'), groups or '(none)'))
        if lst.get('idList') == str(id_list):
            guid = lst.get('listGUID')
    if guid is None:
        print('  list %d is not a list of this account' % id_list)
        return False

    code, _, raw = call(service, 'CreateGroup', headers, idList=id_list, listGUID=guid, newGroupName=group_name)
    print('SOAP %s CreateGroup(%r) ReturnCode=%d (the group id)' % (version, group_name, code))
    print('  result string: %s' % raw)
    return code > 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('endpoint', help='e.g. http://127.0.0.1:8080/Services/WSMailUpImport.asmx')
    parser.add_argument('user', help='the WS user, e.g. a1001')
    parser.add_argument('password')
    parser.add_argument('id_list', type=int, help='idList of the list to create the group in')
    parser.add_argument('--soap', choices=['1.1', '1.2', 'both'], default='both')
    parser.add_argument('--group', default='Created with zeep')
    options = parser.parse_args()

    wsdl = options.endpoint if '?' in options.endpoint else options.endpoint + '?WSDL'
    client = Client(wsdl)
    versions = ['1.1', '1.2'] if options.soap == 'both' else [options.soap]
    ok = all([run(client, v, options.user, options.password, options.id_list, '%s (SOAP %s)' % (options.group, v)) for v in versions])
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
