/* The 115 map: district boundaries (always, from the directory's GeoJSON), hospitals coloured
 * by availability, callers, and the line from a caller to the chosen hospital.
 *
 * Tiles are optional (MAP_TILE_URL): consoles run in a closed network, and without tiles the
 * boundaries, the hospitals and the callers are still all a dispatcher needs to see where a
 * case is. Leaflet is served from /static/vendor/leaflet; nothing is fetched from outside.
 * Labels are set with Leaflet's tooltip on text built by Hotline.h, never from HTML strings.
 */
(function () {
  "use strict";

  const {h, t} = window.Hotline;

  const COLOURS = {available: "#2e7d32", full: "#c62828", other: "#7b8794", caller: "#b3261e",
                   selected: "#0b5cad", district: "#37517e"};

  function tooltipNode(...lines) {
    return h("div", {class: "map-tip"}, lines.filter(Boolean).map((line, i) =>
      h(i === 0 ? "strong" : "div", null, line)));
  }

  function create(element, options) {
    const opts = options || {};
    const map = L.map(element, {zoomControl: true, attributionControl: Boolean(opts.tileUrl),
                                preferCanvas: false, keyboard: true});
    map.setView([11.1, 106.65], 10);
    if (opts.tileUrl) {
      L.tileLayer(opts.tileUrl, {maxZoom: 19, attribution: opts.tileAttribution || ""}).addTo(map);
    } else {
      element.classList.add("no-tiles");
    }
    // Callers are drawn above hospitals: a patient at a hospital's door must still show.
    map.createPane("callers").style.zIndex = 450;
    const districts = L.featureGroup().addTo(map);
    const hospitals = L.featureGroup().addTo(map);
    const cases = L.featureGroup().addTo(map);
    const route = L.featureGroup().addTo(map);
    let pickHandler = null, pickMarker = null, fitted = false;

    function setDistricts(geojson) {
      districts.clearLayers();
      L.geoJSON(geojson, {
        style: () => ({color: COLOURS.district, weight: 1.5, opacity: 0.8, fillColor: "#dfe7f2",
                       fillOpacity: 0.35, className: "district"}),
        onEachFeature: (feature, layer) => {
          const name = (feature.properties || {}).district_name;
          // Without tiles the district names are what a dispatcher finds places by.
          if (name) layer.bindTooltip(h("span", null, name), {permanent: true, direction: "center",
                                                              className: "district-label"});
        },
      }).addTo(districts);
      if (!fitted && districts.getLayers().length) {
        map.fitBounds(districts.getBounds(), {padding: [8, 8]});
        fitted = true;
      }
    }

    function setHospitals(list, highlight) {
      hospitals.clearLayers();
      for (const hospital of list || []) {
        const colour = !hospital.emergency ? COLOURS.other : hospital.available ? COLOURS.available : COLOURS.full;
        const chosen = highlight && highlight === hospital.code;
        const marker = L.circleMarker([hospital.lat, hospital.lon], {
          radius: chosen ? 10 : hospital.emergency ? 7 : 4, color: chosen ? COLOURS.selected : "#fff",
          weight: chosen ? 3 : 1.5, fillColor: colour, fillOpacity: hospital.available || !hospital.emergency ? 0.95 : 0.55,
          className: "hospital-marker " + (hospital.available ? "available" : "full"),
        });
        const state = !hospital.emergency ? t("no_emergency") : hospital.available ? t("available") : t("full");
        if (chosen) {  // the chosen hospital is named on the map, not only on hover
          marker.bindTooltip(h("span", null, hospital.name), {permanent: true, direction: "top", offset: [0, -8],
                                                             className: "chosen-label"});
        } else {
          marker.bindTooltip(tooltipNode(hospital.name, state));
        }
        marker.addTo(hospitals);
      }
    }

    function setCases(list, selectedId) {
      cases.clearLayers();
      for (const ticket of list || []) {
        if (ticket.lat === null || ticket.lon === null || ticket.lat === undefined) continue;
        const selected = ticket.id === selectedId;
        const marker = L.circleMarker([ticket.lat, ticket.lon], {
          radius: selected ? 11 : 7, color: "#fff", weight: 2, fillColor: selected ? COLOURS.caller : "#e57373",
          fillOpacity: 1, className: "caller-marker" + (selected ? " selected" : ""),
          bubblingMouseEvents: false,  // choosing a case is not placing a patient
          pane: "callers",
        });
        marker.bindTooltip(tooltipNode(window.Hotline.code(ticket), ticket.address || ticket.description));
        if (opts.onCase) marker.on("click", () => opts.onCase(ticket.id));
        marker.addTo(cases);
      }
    }

    /* The line caller → hospital with the estimated travel time as its label. */
    function showRoute(from, to, label) {
      route.clearLayers();
      if (!from || !to) return;
      const line = L.polyline([[from.lat, from.lon], [to.lat, to.lon]], {
        color: COLOURS.selected, weight: 4, opacity: 0.85, dashArray: "8 6", className: "route-line"});
      line.addTo(route);
      if (label) {
        line.bindTooltip(h("span", {class: "route-label"}, label), {permanent: true, direction: "center",
                                                                    className: "route-tip"});
      }
      map.fitBounds(line.getBounds(), {padding: [60, 60], maxZoom: 13});
    }

    function focus(lat, lon) {
      if (lat === null || lat === undefined) return;
      map.setView([lat, lon], Math.max(map.getZoom(), 12));
    }

    /* Pick mode: clicks on the map place a draggable marker and call back with lat, lon. */
    function pick(handler, start) {
      pickHandler = handler ? (lat, lon) => { placePick(lat, lon); handler(lat, lon); } : null;
      element.classList.toggle("picking", Boolean(handler));
      if (!handler && pickMarker) { pickMarker.remove(); pickMarker = null; }
      if (handler && start) placePick(start.lat, start.lon);
    }

    function placePick(lat, lon) {
      if (pickMarker) { pickMarker.setLatLng([lat, lon]); return; }
      pickMarker = L.marker([lat, lon], {draggable: true, keyboard: false, title: t("patient_here"),
        icon: L.divIcon({className: "pick-icon", iconSize: [22, 22], iconAnchor: [11, 11]})}).addTo(map);
      pickMarker.on("dragend", () => {
        const p = pickMarker.getLatLng();
        if (pickHandler) pickHandler(p.lat, p.lng);
      });
    }

    // Clicks on the boundaries and markers bubble up to here as well.
    map.on("click", (e) => { if (pickHandler) pickHandler(e.latlng.lat, e.latlng.lng); });

    return {map, setDistricts, setHospitals, setCases, showRoute, focus, pick,
            invalidate: () => map.invalidateSize()};
  }

  window.HotlineMap = {create};
})();
